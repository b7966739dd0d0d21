// Chapter 10: what postMessage does NOT copy. An ArrayBuffer listed in transferList moves
// (the sender's copy is detached, length 0); a SharedArrayBuffer is shared (both threads see
// one memory); a MessagePort cannot be cloned at all. Run: node share.js
'use strict';
const { Worker, MessageChannel, isMainThread, parentPort } = require('node:worker_threads');

if (isMainThread) {
  const worker = new Worker(__filename);
  const moved = new ArrayBuffer(8);
  const shared = new SharedArrayBuffer(4);
  const seen = new Int32Array(shared);
  console.log(`main: before: moved.byteLength = ${moved.byteLength}`);
  worker.postMessage({ moved, shared }, [moved]); // moved is transferred, shared is shared
  console.log(`main: after transfer: moved.byteLength = ${moved.byteLength} (detached)`);
  worker.once('message', (msg) => {
    console.log(`worker: ${msg}`);
    // The worker stored 42 into the shared memory; no message carried the number.
    console.log(`main: Atomics.load(shared) = ${Atomics.load(seen, 0)}`);
    const { port2 } = new MessageChannel();
    try {
      worker.postMessage({ port: port2 }); // a port left out of transferList
    } catch (e) {
      console.log(`main: posting a port without transferList: ${e.name}: ${e.message}`);
    }
    worker.terminate().then(() => port2.close());
  });
} else {
  parentPort.once('message', ({ moved, shared }) => {
    Atomics.store(new Int32Array(shared), 0, 42);
    parentPort.postMessage(`got ${moved.byteLength} moved bytes; stored 42 in shared memory`);
  });
}
