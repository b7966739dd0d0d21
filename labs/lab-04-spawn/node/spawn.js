// Chapter 4, the Node.js view of spawn: start `ls -l` in a directory, print each chunk
// of its stdout as it arrives, then how it ended. A missing program is an 'error' event.
// Run: node spawn.js DIR
const dir = process.argv[2];
if (!dir) {
  console.error('spawn.js: usage: node spawn.js DIR');
  process.exit(2);
}
// ANCHOR: spawn
const { spawn } = require('node:child_process');

const ls = spawn('ls', ['-l'], { cwd: dir });
console.log(`parent pid=${process.pid} started ls pid=${ls.pid}`);
// A bad cwd arrives here too, as `spawn ls ENOENT`: it reads like a missing program.
ls.on('error', (err) => {
  console.log(`ls: error event: ${err.code} (${err.message})`);
  process.exitCode = 1;
});
ls.stdout.on('data', (chunk) => {
  console.log(`data event, ${chunk.length} bytes:\n${chunk.toString().trimEnd()}`);
});
ls.on('close', (code, signal) => {
  console.log(`close: code=${code} signal=${signal}`);

  const missing = spawn('no-such-program');
  console.log(`spawn('no-such-program') returned a ChildProcess, pid=${missing.pid}`);
  missing.on('error', (err) => console.log(`error event: ${err.code} (${err.message})`));
});
// ANCHOR_END: spawn
