// Chapter 2: a Node.js process waits for its workers, and `process.exit` in a worker
// ends only that worker. Compare the Rust `ending` demo, where neither is true.
// Usage: node node/ending.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';

// ANCHOR: ending
if (isMainThread) {
  const start = (name) => new Worker(new URL(import.meta.url), { workerData: name });
  // The quitter first; the worker that counts starts when the quitter has exited.
  start('quitter').on('exit', (code) => {
    console.log(`main: quitter exited with code ${code}; main goes on`);
    start('counter').on('exit', (code) => console.log(`main: counter exited with code ${code}`));
  });
  console.log('main: end of the script');
} else if (workerData === 'quitter') {
  console.log('quitter: calling process.exit(3)');
  process.exit(3); // ends this worker only
} else {
  let sum = 0;
  for (let i = 0; i < 10_000_000; i++) sum += i; // long after main's script ended
  console.log(`counter: done, sum ${sum}`);
}
// ANCHOR_END: ending
