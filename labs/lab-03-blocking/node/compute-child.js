// Chapter 3: the child of the `fork` fix. Gets {n} over the IPC channel, answers {sum}.
'use strict';
const { sumTo } = require('./sum.js');

// ANCHOR: child
process.once('message', ({ n }) => {
  process.send({ sum: sumTo(n).toString() }); // a BigInt is not JSON: send its digits
});
// ANCHOR_END: child
