// Chapter 4: the child of fork-parent.js. A fresh Node process: none of the parent's
// JavaScript state exists here.
// ANCHOR: child
process.send({
  pid: process.pid,
  ppid: process.ppid,
  counter: globalThis.counter ?? 'undefined (a fresh process)',
  argv0: process.argv0,
});
// ANCHOR_END: child
