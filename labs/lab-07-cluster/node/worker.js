// Chapter 7: the worker for master.js. It serves HTTP on a listening socket it did not
// open: the master sent it over the IPC channel.
'use strict';
const http = require('node:http');

// ANCHOR: worker
const app = http.createServer((req, res) => {
  if (req.url === '/crash') {
    res.end(`worker ${process.pid} crashes`);
    setImmediate(() => { throw new Error('GET /crash asked for a crash'); });
    return;
  }
  res.end(`hello from worker ${process.pid}`);
});
let listener = null;

process.on('message', (m, handle) => {
  if (m === 'server') {
    listener = handle; // a net.Server, already listening
    listener.on('connection', (socket) => app.emit('connection', socket));
    process.send({ act: 'online' });
  } else if (m === 'socket') {
    app.emit('connection', handle); // one the master accepted
  }
});

process.on('uncaughtException', (err) => {
  console.error(`worker ${process.pid}: ${err.message}`);
  process.send({ act: 'suicide' }); // the master forks a replacement now
  listener.close(); // no new connections here
  app.close(() => process.exit(1)); // in-flight requests finish first
  app.closeIdleConnections();
});

process.on('SIGTERM', () => {
  listener.close();
  app.close(() => process.exit(0));
  app.closeIdleConnections();
});
// ANCHOR_END: worker
