// Chapter 7: a cluster by hand, the way it was done before the cluster module: the master
// opens the listening socket and sends it to each worker with child.send('server', server).
// A worker that must crash says so first ({act: 'suicide'}); the master forks its
// replacement at once, and the old worker stops listening, finishes, and exits.
'use strict';
const { fork } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

// ANCHOR: master
const n = Number(process.argv[2] ?? 2);
const workers = new Map(); // pid -> child
let next = 0;
let online = 0;
// pauseOnConnect: a connection the master accepts is not read here, so it can be passed on.
const server = net.createServer({ pauseOnConnect: true });

function startWorker() {
  const child = fork(path.join(__dirname, 'worker.js'));
  workers.set(child.pid, child);
  child.on('message', (m) => {
    if (m.act === 'online') {
      console.log(`worker pid=${child.pid} online`);
      if (++online === n) {
        console.log(`ready addr=127.0.0.1:${server.address().port} pid=${process.pid} workers=${n}`);
      }
    } else if (m.act === 'suicide') {
      workers.delete(child.pid); // no more connections for it
      const replacement = startWorker();
      console.log(`worker pid=${child.pid} leaving; forked pid=${replacement.pid} first`);
    }
  });
  child.on('exit', (code, signal) => {
    workers.delete(child.pid);
    console.log(`worker pid=${child.pid} exited with ${signal ?? `code ${code}`}`);
    if (shuttingDown && workers.size === 0) console.log('all workers gone; bye');
  });
  child.send('server', server); // the listening socket itself, as an fd
  return child;
}

// The master's copy of the socket stays open and listening (a replacement needs it), so
// the kernel hands some connections to the master's own accept: it passes them on.
server.on('connection', (socket) => {
  const live = [...workers.values()];
  live[next++ % live.length].send('socket', socket);
});

let shuttingDown = false;
process.on('SIGTERM', () => {
  shuttingDown = true;
  server.close();
  for (const child of workers.values()) child.kill('SIGTERM');
});

server.listen(0, '127.0.0.1', () => {
  for (let i = 0; i < n; i++) startWorker();
});
// ANCHOR_END: master
