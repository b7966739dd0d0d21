// Chapter 12: the child of fork-cost.js. Says it is up, then lets go of the IPC channel,
// which leaves its event loop with nothing to do, so it exits.
process.send('up');
process.disconnect();
