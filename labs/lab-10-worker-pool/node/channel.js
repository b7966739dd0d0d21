// Chapter 10: a MessageChannel is a pair of connected ports. The main thread keeps port1
// and transfers port2 to a worker, which then talks on it directly. Messages are copied
// (structured clone), not shared; share.js shows the exceptions. Run: node channel.js
'use strict';
const { Worker, MessageChannel, isMainThread, workerData } = require('node:worker_threads');

if (isMainThread) {
  const { port1, port2 } = new MessageChannel();
  // A port must be listed in transferList: it moves to the worker and is unusable here.
  const worker = new Worker(__filename, { workerData: { port: port2 }, transferList: [port2] });
  const sent = { words: ['ping'] };
  const reply = new Promise((resolve) => port1.once('message', resolve));
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  port1.postMessage(sent);
  // The reply and the worker's exit race each other: print once both are in.
  Promise.all([reply, exited]).then(([msg, code]) => {
    console.log(`main: got ${JSON.stringify(msg)}`);
    console.log(`main: my object is still ${JSON.stringify(sent)} (the worker changed a copy)`);
    console.log(`main: worker exited with code ${code}`);
    port1.close();
  });
} else {
  const port = workerData.port;
  port.once('message', (msg) => {
    msg.words.push('pong');
    port.postMessage(msg);
    port.close(); // with no open port and nothing else to do, the worker's loop ends
  });
}
