// Chapter 9: a Node program that cleans up on SIGTERM. Run: node graceful.js STATE-FILE
// then, from another shell, kill -TERM PID (or kill -KILL PID: no cleanup).
if (process.argv.length !== 3) {
  console.error('graceful.js: usage: node graceful.js STATE-FILE');
  process.exit(2);
}
// ANCHOR: graceful
const fs = require('fs');

const stateFile = process.argv[2];
fs.writeFileSync(stateFile, `${process.pid}\n`);

process.on('SIGTERM', (signal) => {
  // An ordinary callback: libuv's own handler only noted the signal, and the event
  // loop calls us later, where any JavaScript is allowed.
  console.log(`got ${signal}`);
  fs.unlinkSync(stateFile);
  console.log(`cleanup: removed ${stateFile}`);
  process.exit(0);
});

console.log(`ready pid=${process.pid}`);
setInterval(() => {}, 1 << 30); // keep the event loop alive until a signal comes
// ANCHOR_END: graceful
