// Chapter 8: the usual way to "daemonize" from Node.js. Start daemon.js detached (the
// child calls setsid), with stdin, stdout and stderr on /dev/null, and unref() it so this
// process can exit without waiting for it.
// Usage: node detach.js LOGFILE
// ANCHOR: detach
const { spawn } = require('node:child_process');
const path = require('node:path');

const child = spawn(process.execPath, [path.join(__dirname, 'daemon.js'), process.argv[2]], {
  detached: true,
  stdio: 'ignore',
});
child.unref();
console.log(`detach.js pid=${process.pid} started daemon.js pid=${child.pid}, exiting`);
// ANCHOR_END: detach
