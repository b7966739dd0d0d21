// Chapter 4, the Node.js view of fork: not fork(2). It starts a *new* Node process that
// runs a module from its first line, with an IPC channel to the parent (chapter 5).
// Run: node fork-parent.js
// ANCHOR: fork
const { fork } = require('node:child_process');

globalThis.counter = 42; // set before fork: does the child see it?
const child = fork(`${__dirname}/fork-child.js`);
console.log(`parent pid=${process.pid} forked pid=${child.pid}`);
child.on('message', (msg) => {
  console.log(`parent got: ${JSON.stringify(msg)}`);
  child.disconnect();
});
child.on('exit', (code) => console.log(`child exit: code=${code}`));
// ANCHOR_END: fork
