// Chapter 4, Node's own fix for exec's leftovers: start the shell with `detached: true`
// (it calls setsid, so the shell leads a new process group) and, over the limit, signal
// the whole group with a negative pid: the counterpart of Rust's process_group(0) + killpg.
// Run: node exec-group.js
const fs = require('node:fs');
const { findSleep, waitForSleep } = require('./marked-sleep.js');
const MARKER = '29.9792';
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
  waitForSleep(MARKER, 10_000, (pid) => {
    console.log(`over ${maxBuffer} bytes; sleep 29.9792 running: ${pid !== null}`);
    process.kill(-sh.pid, 'SIGKILL'); // a negative pid: every process in the group
  });
});
// 'close' comes once every holder of the pipes is gone: the sleep had them too.
sh.on('close', (code, signal) => {
  console.log(`close: code=${code} signal=${signal}`);
  console.log(`sleep 29.9792 running: ${findSleep(MARKER) !== null}`);
});
// ANCHOR_END: group

function pgidOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2];
}


