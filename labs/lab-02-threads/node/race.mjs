// Chapter 2, side by side: the shared counter in Node.js.
// Worker threads share one SharedArrayBuffer. `view[0]++` is a read followed by a write,
// like the racy Rust counter; `Atomics.add` is one indivisible step, like `fetch_add`.
// Usage: node race.mjs THREADS INCREMENTS   (prints "METHOD TOTAL MILLISECONDS" lines)
import { Worker, isMainThread, workerData } from 'node:worker_threads';

// ANCHOR: worker
if (!isMainThread) {
  const { shared, method, increments } = workerData;
  const view = new Int32Array(shared);
  if (method === 'atomics') {
    for (let i = 0; i < increments; i++) Atomics.add(view, 0, 1);
  } else {
    for (let i = 0; i < increments; i++) view[0]++;
  }
}
// ANCHOR_END: worker

if (isMainThread) {
  const [threads, increments] = process.argv.slice(2).map(Number);
  // The counter is an Int32Array cell: the exact total must fit in 31 bits.
  if (process.argv.length !== 4 || !Number.isInteger(threads) || !Number.isInteger(increments)
      || threads < 1 || threads > 256 || increments < 1 || threads * increments > 2 ** 31 - 1) {
    console.error('usage: node race.mjs THREADS INCREMENTS (1 to 256 threads, a total below 2^31)');
    process.exit(2);
  }
  for (const method of ['atomics', 'plain']) {
    const shared = new SharedArrayBuffer(4);
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: threads }, () => new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), {
          workerData: { shared, method, increments },
        });
        worker.on('exit', resolve);
        worker.on('error', reject);
      })),
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`${method} ${new Int32Array(shared)[0]} ${ms.toFixed(2)}`);
  }
}
