// Chapter 12, measure it: the Node.js side of "create + destroy" for threads. Starts
// COUNT workers with new Worker(), one after the other, and times each from the call
// until the worker's first message; then waits for the worker to exit (not timed).
// Prints the mean time to first message in microseconds.
// Run: node worker-cost.js 10
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const { once } = require('node:events');

if (!isMainThread) {
  parentPort.postMessage('up'); // then nothing is left to do: the worker ends
} else {
  const count = Number(process.argv[2] ?? 10);
  if (!Number.isInteger(count) || count < 1) {
    console.error('worker-cost.js: COUNT must be a positive integer');
    process.exit(2);
  }
  (async () => {
    let total = 0n;
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      const worker = new Worker(__filename);
      const exited = once(worker, 'exit');
      await once(worker, 'message');
      total += process.hrtime.bigint() - started;
      await exited;
    }
    console.log((Number(total) / 1e3 / count).toFixed(1));
  })();
}
