// Chapter 3: the work, shared by the three Node servers: the exact sum of 0..n.
// A Number holds integers exactly only up to 2^53, so the loop carries every 2^52 into a
// counter and the result is put together as a BigInt.
'use strict';

// ANCHOR: sum
function sumTo(n) {
  const STEP = 2 ** 52;
  let low = 0;
  let carries = 0;
  for (let i = 0; i < n; i++) {
    low += i;
    if (low >= STEP) { low -= STEP; carries++; }
  }
  return BigInt(carries) * BigInt(STEP) + BigInt(low);
}
// ANCHOR_END: sum

module.exports = { sumTo };
