// Chapter 3: callbacks that schedule themselves. nextTick and promise callbacks run before
// the loop may move on, so a chain of them starves the loop; setImmediate does not.
//   node nexttick-starve.js nextTick|promise|setImmediate N
'use strict';
const [kind, count] = [process.argv[2] ?? 'nextTick', Number(process.argv[3] ?? 100000)];
if (!['nextTick', 'promise', 'setImmediate'].includes(kind)) {
  console.error(`nexttick-starve: the kind is nextTick, promise or setImmediate, not ${kind}`);
  process.exit(2);
}
if (!Number.isSafeInteger(count) || count < 1) {
  console.error(`nexttick-starve: N must be a whole number of at least 1, not ${process.argv[3]}`);
  process.exit(2);
}

// ANCHOR: starve
let runs = 0;
let timerSawRuns = null;
setTimeout(() => { timerSawRuns = runs; }, 0);

function again() {
  runs++;
  if (runs === count) {
    console.log(`${kind}: ${count} callbacks done; the 0 ms timer had ${timerSawRuns === null ? 'not run yet' : 'run'}`);
    return;
  }
  if (kind === 'nextTick') process.nextTick(again);
  else if (kind === 'promise') Promise.resolve().then(again);
  else setImmediate(again);
}
again();
// ANCHOR_END: starve
