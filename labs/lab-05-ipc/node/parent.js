// Chapter 5: a Node parent talks to ANY program over Node's IPC channel. Run it as
//   node labs/lab-05-ipc/node/parent.js target/debug/echo-child
// The 'ipc' entry at index 3 makes libuv create a socketpair, hand one end to the
// child as fd 3 and put NODE_CHANNEL_FD=3 in its environment. The child here is the
// lab's Rust echo-child, which answers every message m with {"echo": m}.
// ANCHOR: parent
const { spawn } = require('node:child_process');

const program = process.argv[2];
const child = spawn(program, [], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });

const messages = [{ n: 1 }, 'a string with a\nnewline', [1, 2, 3], { nested: { ok: true } }];
let answered = 0;
child.on('message', (reply) => {
  console.log('node parent got', JSON.stringify(reply));
  if (++answered === messages.length) child.disconnect(); // closes our end
});
child.on('exit', (code, signal) => console.log('child exited:', { code, signal }));

for (const m of messages) child.send(m);
// ANCHOR_END: parent
