// Chapter 4, Node's own fix for exec's leftovers: start the shell with `detached: true`
// (it calls setsid, so the shell leads a new process group) and, over the limit, signal
// the whole group with a negative pid: the counterpart of Rust's process_group(0) + killpg.
// Run: node exec-group.js
const fs = require('node:fs');
// ANCHOR: group
const { spawn } = require('node:child_process');

const maxBuffer = 64 * 1024;
const cmd = 'sleep 29.9792 & yes | head -c 2000000';
const sh = spawn('/bin/sh', ['-c', cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
console.log(`shell pid=${sh.pid}, its process group: ${pgidOf(sh.pid)}`);
let received = 0;
let over = false;
sh.stdout.on('data', (chunk) => {
  received += chunk.length;
  if (received <= maxBuffer || over) return;
  over = true;
  sh.stdout.pause();
  waitForSleep(10_000, (pid) => {
    console.log(`over ${maxBuffer} bytes; sleep 29.9792 running: ${pid !== null}`);
    process.kill(-sh.pid, 'SIGKILL'); // a negative pid: every process in the group
  });
});
// 'close' comes once every holder of the pipes is gone: the sleep had them too.
sh.on('close', (code, signal) => {
  console.log(`close: code=${code} signal=${signal}`);
  console.log(`sleep 29.9792 running: ${findSleep() !== null}`);
});
// ANCHOR_END: group

function pgidOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2];
}

// The shell forks the sleep before the pipeline runs, but the sleep may not have reached
// exec yet: look for it in /proc for a while.
function waitForSleep(ms, done) {
  const until = Date.now() + ms;
  const look = () => {
    const pid = findSleep();
    if (pid || Date.now() > until) return done(pid);
    setTimeout(look, 10);
  };
  look();
}

// A killed sleep that nobody has reaped yet is a zombie with an empty cmdline: not found.
function findSleep() {
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1') === 'sleep\u000029.9792\u0000') return pid;
    } catch { /* gone meanwhile */ }
  }
  return null;
}
