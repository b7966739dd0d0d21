// Chapter 3: the order in which Node runs callbacks. Run: node phases.js
'use strict';
const fs = require('node:fs');

// ANCHOR: phases
const say = (what) => console.log(what);

say('main script: start');
Promise.resolve().then(() => say('microtask: promise, scheduled by the main script'));
process.nextTick(() => say('nextTick queue: scheduled by the main script'));

fs.readFile(__filename, () => {
  say('poll phase: the readFile callback (I/O done)');
  setTimeout(() => say('timers phase: setTimeout 0, scheduled in the I/O callback'), 0);
  setImmediate(() => say('check phase: setImmediate, scheduled in the I/O callback'));
  Promise.resolve().then(() => say('microtask: promise, scheduled in the I/O callback'));
  process.nextTick(() => say('nextTick queue: scheduled in the I/O callback'));
  say('poll phase: the readFile callback returns');
});
say('main script: end');
// ANCHOR_END: phases
