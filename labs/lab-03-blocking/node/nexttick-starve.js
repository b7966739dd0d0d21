// Chapter 3: callbacks that schedule themselves. nextTick and promise callbacks run before
// the loop may move on, so a chain of them starves the loop; setImmediate does not.
//   node nexttick-starve.js nextTick|promise|setImmediate N
'use strict';
const [kind, count] = [process.argv[2] ?? 'nextTick', Number(process.argv[3] ?? 100000)];

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
