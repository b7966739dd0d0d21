// Chapter 4, the Node.js view of exec: a command line through /bin/sh, output collected
// under maxBuffer. Over the limit, Node sends SIGTERM to the shell, and only the shell.
// Run: node exec.js
// ANCHOR: exec
const { exec } = require('node:child_process');
const fs = require('node:fs');
const { waitForSleep } = require('./marked-sleep.js');
const MARKER = '31.4159';

exec('node -v', (err, stdout) => {
  console.log(`exec('node -v'): ${stdout.trim()}`);

  // A background `sleep` (31.4159: a marker to find it by), then 2 MB on stdout.
  const cmd = 'sleep 31.4159 & yes | head -c 2000000';
  const child = exec(cmd, { maxBuffer: 64 * 1024 }, (err, stdout) => {
    console.log(`callback: ${err.code}, kept ${stdout.length} bytes of stdout`);
    console.log(`SIGTERM sent to the shell only (pid=${child.pid}): child.killed=${child.killed}`);
    waitForSleep(MARKER, 10_000, (pid) => {
      if (!pid) return console.log('sleep 31.4159 is not running');
      const orphaned = ppidOf(pid) !== String(child.pid);
      console.log(`sleep 31.4159 is still running, orphaned=${orphaned}`);
      ignoresTerm();
    });
  });
});

// A shell that ignores SIGTERM and works 2 more seconds: Node never escalates, so the
// callback waits until the shell ends by itself.
function ignoresTerm() {
  const cmd = 'trap "" TERM; yes | head -c 2000000; sleep 2; exit 7';
  const started = Date.now();
  const child = exec(cmd, { maxBuffer: 64 * 1024 }, (err) => {
    console.log(`callback: ${err.code}, only after the shell's own exit`);
    console.log(`callback after >= 2 s: ${Date.now() - started >= 2000}`);
  });
  child.on('exit', (code, signal) => console.log(`shell (TERM ignored) exit: code=${code} signal=${signal}`));
}
// ANCHOR_END: exec



function ppidOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
}
