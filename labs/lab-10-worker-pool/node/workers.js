// Chapter 10: Node's worker threads. The main thread starts two workers, hands each its
// input through `workerData`, and gets one answer back from each through
// `parentPort.postMessage`. Run: node workers.js
'use strict';
const { Worker, isMainThread, parentPort, workerData, threadId } = require('node:worker_threads');

if (isMainThread) {
  console.log(`main: isMainThread=${isMainThread} threadId=${threadId}`);
  const inputs = [{ id: 'a', n: 1000 }, { id: 'b', n: 2000 }];
  const answers = [];
  let running = inputs.length;
  for (const input of inputs) {
    // The same file, started again in a new thread with its own V8 isolate and event loop.
    const worker = new Worker(__filename, { workerData: input });
    worker.on('message', (msg) => answers.push(msg));
    worker.on('exit', () => {
      if (--running === 0) {
        answers.sort((x, y) => x.id.localeCompare(y.id));
        for (const a of answers) {
          console.log(`main got: id=${a.id} sum=${a.sum} from threadId=${a.threadId} isMainThread=${a.isMainThread}`);
        }
      }
    });
  }
} else {
  let sum = 0;
  for (let i = 1; i <= workerData.n; i++) sum += i;
  parentPort.postMessage({ id: workerData.id, sum, threadId, isMainThread });
}
