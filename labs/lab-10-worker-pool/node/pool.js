// Chapter 10: a fixed pool of Node workers with a queue, written by hand: what packages such
// as piscina do, without their extras. Workers start once; jobs wait in an array until a
// worker is idle. Run: node pool.js
'use strict';
const { Worker, isMainThread, parentPort, threadId } = require('node:worker_threads');

class Pool {
  constructor(size) {
    this.workers = [];
    this.idle = [];
    this.queue = []; // jobs waiting for a worker: unbounded, nothing pushes back
    this.busy = 0;
    this.mostBusy = 0;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(__filename);
      worker.on('message', (result) => {
        const { resolve } = worker.job;
        worker.job = null;
        this.busy -= 1;
        this.idle.push(worker);
        resolve(result);
        this.pump();
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  run(n) {
    return new Promise((resolve) => {
      this.queue.push({ n, resolve });
      this.pump();
    });
  }

  pump() {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift();
      worker.job = this.queue.shift();
      this.busy += 1;
      this.mostBusy = Math.max(this.mostBusy, this.busy);
      worker.postMessage(worker.job.n);
    }
  }

  close() {
    return Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

if (isMainThread) {
  const pool = new Pool(2);
  const jobs = [10, 100, 1000, 10000, 100000, 1000000];
  Promise.all(jobs.map((n) => pool.run(n))).then(async (results) => {
    for (const { n, sum } of results) console.log(`sum(1..=${n}) = ${sum}`);
    const used = [...new Set(results.map((r) => r.worker))].sort((a, b) => a - b);
    console.log(`${jobs.length} jobs on workers with threadId ${used.join(' and ')}`);
    console.log(`at most ${pool.mostBusy} jobs ran at once`);
    await pool.close();
  });
} else {
  parentPort.on('message', (n) => {
    let sum = 0;
    for (let i = 1; i <= n; i++) sum += i;
    parentPort.postMessage({ n, sum, worker: threadId });
  });
}
