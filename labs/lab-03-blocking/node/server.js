// Chapter 3: the seeds' server and its two Node fixes, in one program.
//   node server.js inline|fork|worker [PORT] [MAX_N]
// Prints the same lines as the Rust server: `ready addr=… pid=… mode=…`, then one line per
// event, so the tests can read both the same way.
'use strict';
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { sumTo } = require('./sum.js');

const mode = process.argv[2];
const port = Number(process.argv[3] ?? 3000);
const maxN = Number(process.argv[4] ?? 1e10);
if (!['inline', 'fork', 'worker'].includes(mode)) {
  console.error('usage: node server.js inline|fork|worker [PORT] [MAX_N]');
  process.exit(2);
}
const log = (line) => console.log(line);

// ANCHOR: inline
// The seeds' server: the loop runs in the request handler, on the event loop.
function computeInline(n, done) {
  done(sumTo(n));
}
// ANCHOR_END: inline

// ANCHOR: fork
// Fix 1: a child process per request, with Node's IPC channel (chapter 5).
function computeInChild(n, done, id) {
  const child = fork(path.join(__dirname, 'compute-child.js'));
  log(`conn=${id} compute start n=${n} on=child pid=${child.pid}`);
  child.once('message', (msg) => {
    done(BigInt(msg.sum));
    child.disconnect(); // the child's event loop empties and it exits; Node reaps it
  });
  child.send({ n });
}
// ANCHOR_END: fork

// ANCHOR: worker
// Fix 2: a thread of the same process, with its own event loop and V8 isolate.
function computeInWorker(n, done, id) {
  const worker = new Worker(path.join(__dirname, 'compute-worker.js'), { workerData: { n } });
  log(`conn=${id} compute start n=${n} on=worker thread=${worker.threadId}`);
  worker.once('message', (sum) => done(BigInt(sum)));
}
// ANCHOR_END: worker

let connections = 0;
const server = http.createServer((req, res) => {
  const id = req.socket.connId;
  log(`conn=${id} request ${req.method} ${req.url}`);
  const reply = (status, body) => {
    const text = body + '\n';
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    log(`conn=${id} response ${status} ${body}`);
  };
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/') return reply(200, 'ok');
  if (url.pathname !== '/compute') return reply(404, `no route for ${url.pathname}`);
  const text = url.searchParams.get('n');
  const n = Number(text);
  if (text === null || !/^[0-9]+$/.test(text) || n > maxN) {
    return reply(400, `bad n: ${JSON.stringify(text)} (a whole number up to ${maxN})`);
  }
  const done = (sum) => {
    log(`conn=${id} compute done`);
    reply(200, `sum=${sum}`);
  };
  if (mode === 'inline') {
    log(`conn=${id} compute start n=${n} on=event-loop`);
    computeInline(n, done);
  } else if (mode === 'fork') {
    computeInChild(n, done, id);
  } else {
    computeInWorker(n, done, id);
  }
});
server.on('connection', (socket) => {
  socket.connId = ++connections;
  log(`conn=${socket.connId} accepted`);
});
server.listen(port, '127.0.0.1', () => {
  const { address, port } = server.address();
  log(`ready addr=${address}:${port} pid=${process.pid} mode=${mode}`);
});
