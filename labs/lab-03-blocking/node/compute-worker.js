// Chapter 3: the thread of the `worker_threads` fix. Gets n in workerData, posts the sum.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { sumTo } = require('./sum.js');

// ANCHOR: worker
parentPort.postMessage(sumTo(workerData.n).toString());
// ANCHOR_END: worker
