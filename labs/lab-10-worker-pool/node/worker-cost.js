// Chapter 10 experiment, Node's side: what a Worker costs to start (new Worker until its
// first message arrives) and what one postMessage round trip to a running worker costs.
// Timed by Node's own clock; prints one JSON line. Run: node worker-cost.js STARTS TRIPS
'use strict';
const { Worker, isMainThread, parentPort } = require('node:worker_threads');

if (!isMainThread) {
  parentPort.on('message', (n) => parentPort.postMessage(n + 1));
  parentPort.postMessage('ready');
} else {
  const starts = Number(process.argv[2] ?? 5);
  const trips = Number(process.argv[3] ?? 1000);
  if (!Number.isInteger(starts) || starts < 1 || !Number.isInteger(trips) || trips < 1) {
    console.error('worker-cost.js: usage: node worker-cost.js STARTS TRIPS (positive integers)');
    process.exit(2);
  }
  const once = (w, ev) => new Promise((resolve) => w.once(ev, resolve));
  (async () => {
    const startMs = [];
    let worker;
    for (let i = 0; i < starts; i++) {
      const t0 = process.hrtime.bigint();
      worker = new Worker(__filename);
      await once(worker, 'message'); // 'ready'
      startMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (i < starts - 1) await worker.terminate();
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < trips; i++) {
      worker.postMessage(i);
      await once(worker, 'message');
    }
    const roundTripUs = Number(process.hrtime.bigint() - t0) / 1e3 / trips;
    await worker.terminate();
    console.log(JSON.stringify({ start_ms: startMs, round_trip_us: roundTripUs }));
  })();
}
