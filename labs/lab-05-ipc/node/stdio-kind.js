// Chapter 5: what libuv gives a child for stdio 'pipe' and for 'ipc'. Run it as
//   node labs/lab-05-ipc/node/stdio-kind.js
// It starts itself as a child; the child reads its own fd table from /proc.
// ANCHOR: stdio_kind
const { spawn } = require('node:child_process');
const fs = require('node:fs');

if (process.argv[2] === 'child') {
  for (const fd of [0, 1, 3]) {
    console.log(`child fd ${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
  }
  console.log(`child NODE_CHANNEL_FD: ${process.env.NODE_CHANNEL_FD}`);
  process.disconnect();
} else {
  const child = spawn(process.execPath, [__filename, 'child'], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  child.stdin.end();
  child.stdout.pipe(process.stdout);
}
// ANCHOR_END: stdio_kind
