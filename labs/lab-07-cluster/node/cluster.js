// Chapter 7: Node's cluster module. The primary forks one worker per CPU (or argv[2]);
// every worker calls listen() on the same port, and the primary decides who accepts:
// round robin by default, the workers themselves with NODE_CLUSTER_SCHED_POLICY=none.
// On SIGTERM the primary asks each worker how many requests it served, then disconnects
// them and exits when they are gone.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');

// ANCHOR: cluster
if (cluster.isPrimary) {
  const n = Number(process.argv[2] ?? os.availableParallelism());
  const policy = cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none';
  let listening = 0;
  let alive = n;
  cluster.on('online', (w) => console.log(`worker ${w.id} pid=${w.process.pid} online`));
  cluster.on('listening', (w, address) => {
    if (++listening === n) {
      console.log(`ready addr=127.0.0.1:${address.port} pid=${process.pid} workers=${n} sched=${policy}`);
    }
  });
  cluster.on('exit', (w, code, signal) => {
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (w.exitedAfterDisconnect) {
      console.log(`worker ${w.id} pid=${w.process.pid} ${how} (served ${w.served} requests)`);
      if (--alive === 0) console.log('all workers gone; bye');
    } else {
      console.log(`worker ${w.id} pid=${w.process.pid} died (${how}); forking a replacement`);
      cluster.fork();
    }
  });
  process.on('SIGTERM', () => {
    console.log('shutting down on SIGTERM');
    for (const w of Object.values(cluster.workers)) {
      w.once('message', (m) => { w.served = m.served; w.disconnect(); });
      w.send('served?');
    }
  });
  for (let i = 0; i < n; i++) cluster.fork();
} else {
  let served = 0;
  http.createServer((req, res) => {
    served++;
    res.end(`hello from worker ${process.pid}`);
  }).listen(0, '127.0.0.1'); // port 0: the primary picks one port for all workers
  process.on('message', (m) => { if (m === 'served?') process.send({ served }); });
}
// ANCHOR_END: cluster
