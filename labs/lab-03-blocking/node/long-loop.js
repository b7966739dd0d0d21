// Chapter 3: a long synchronous loop starves every timer and every I/O callback.
//   node long-loop.js N
'use strict';
const fs = require('node:fs');
const { sumTo } = require('./sum.js');
const n = Number(process.argv[2] ?? 3e8);
if (!Number.isSafeInteger(n) || n < 0) {
  console.error(`long-loop: N must be a whole number from 0 to 2^53, not ${process.argv[2]}`);
  process.exit(2);
}

// ANCHOR: long_loop
const started = process.hrtime.bigint();
const ms = () => Number(process.hrtime.bigint() - started) / 1e6;

setTimeout(() => console.log(`timer for 1 ms: fired after ${ms().toFixed(0)}ms`), 1);
fs.stat(__filename, () => console.log(`fs.stat callback: ran after ${ms().toFixed(0)}ms`));
console.log(`loop of ${n}: start`);
const sum = sumTo(n);
console.log(`loop of ${n}: done after ${ms().toFixed(0)}ms, sum=${sum}`);
// ANCHOR_END: long_loop
