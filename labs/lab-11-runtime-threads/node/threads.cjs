// Count this process's threads before and after one phase, from /proc/self/task.
// Usage: node threads.cjs PHASE. CommonJS on purpose: an ES module entry point is loaded
// with asynchronous file reads, which start libuv's pool before the first line runs.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const os = require('node:os');
const path = require('node:path');

// ANCHOR: count
// Every call here is synchronous: reading /proc must not itself use the pool.
function threadNames() {
  return fs.readdirSync('/proc/self/task')
    .map(Number)
    .sort((a, b) => (a === process.pid ? -1 : b === process.pid ? 1 : a - b))
    .map((tid) => fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
}
// ANCHOR_END: count

function fold(names) {
  const parts = [];
  for (const name of names) {
    const last = parts[parts.length - 1];
    if (last && last.name === name) last.n += 1;
    else parts.push({ name, n: 1 });
  }
  return parts.map(({ name, n }) => (n === 1 ? name : `${name} x${n}`)).join(', ');
}

const phase = process.argv[2];
const before = threadNames();
function report() {
  const after = threadNames();
  console.log(`${phase}: ${before.length} -> ${after.length} threads ` +
    `(+${after.length - before.length}): ${fold(after)}`);
}

// A TCP echo server on 127.0.0.1 and a client that connects to `host`.
function echoOverTcp(host, done) {
  const server = net.createServer((conn) => conn.pipe(conn));
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    // family: 4, so that `localhost` cannot resolve to ::1, where nothing listens.
    const client = net.connect({ host, port, family: 4 }, () => client.write('hello'));
    client.once('data', (data) => {
      if (data.toString() !== 'hello') throw new Error(`echo: ${data}`);
      done();
      client.destroy();
      server.close();
    });
  });
}

function scratchFile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab11-'));
  const file = path.join(dir, 'watched');
  fs.writeFileSync(file, 'x');
  return { file, remove: () => fs.rmSync(dir, { recursive: true }) };
}

const phases = {
  idle: () => report(),
  // ANCHOR: phases
  'read-file': () => fs.readFile(__filename, () => report()),
  'jobs-8': () => {
    let left = 8;
    for (let i = 0; i < 8; i++) fs.readFile(__filename, () => --left === 0 && report());
  },
  'tcp-ip': () => echoOverTcp('127.0.0.1', report),
  'tcp-localhost': () => echoOverTcp('localhost', report),
  'dns-lookup': () => dns.lookup('localhost', { family: 4 }, (err) => {
    if (err) throw err;
    report();
  }),
  // ANCHOR_END: phases
  // ANCHOR: resolve
  // c-ares sends the query itself, over a UDP socket on the event loop. The "DNS server"
  // is a UDP socket of ours on 127.0.0.1: count when the query reaches it, then cancel.
  'dns-resolve': () => {
    const server = dgram.createSocket('udp4');
    server.bind(0, '127.0.0.1', () => {
      const resolver = new dns.Resolver({ timeout: 60000, tries: 1 });
      resolver.setServers([`127.0.0.1:${server.address().port}`]);
      server.once('message', () => {
        report();
        resolver.cancel();
        server.close();
      });
      resolver.resolve4('example.test', (err) => {
        if (!err || err.code !== 'ECANCELLED') throw err || new Error('answered?');
      });
    });
  },
  // ANCHOR_END: resolve
  // ANCHOR: watch
  'fs-watch': () => {
    const scratch = scratchFile();
    const watcher = fs.watch(scratch.file, () => {
      report();
      watcher.close();
      scratch.remove();
    });
    fs.appendFileSync(scratch.file, 'y');
  },
  'fs-watchfile': () => {
    const scratch = scratchFile();
    // Poll every 10 ms; keep changing the file until a poll notices.
    const writer = setInterval(() => fs.appendFileSync(scratch.file, 'y'), 10);
    fs.watchFile(scratch.file, { interval: 10 }, () => {
      report();
      clearInterval(writer);
      fs.unwatchFile(scratch.file);
      scratch.remove();
    });
  },
  // ANCHOR_END: watch
  // ANCHOR: crypto
  pbkdf2: () => crypto.pbkdf2('secret', 'salt', 1000, 32, 'sha256', (err) => {
    if (err) throw err;
    report();
  }),
  gzip: () => zlib.gzip('some text', (err) => {
    if (err) throw err;
    report();
  }),
  // ANCHOR_END: crypto
  // ANCHOR: busy
  // Four slow pbkdf2 jobs, then one readFile. With a pool of 4 the file read has no
  // thread until a pbkdf2 job ends; with UV_THREADPOOL_SIZE=5 it has one of its own.
  'pbkdf2-busy': () => {
    let hashed = 0;
    let read = false;
    // The count comes once the hashes and the read are all done: the read takes several
    // trips through the pool (open, stat, read, close), so the hashes may end first.
    const reportWhenDone = () => { if (hashed === 4 && read) report(); };
    for (let i = 0; i < 4; i++) {
      crypto.pbkdf2('secret', `salt${i}`, 200000, 32, 'sha256', (err) => {
        if (err) throw err;
        hashed += 1;
        reportWhenDone();
      });
    }
    fs.readFile(__filename, (err) => {
      if (err) throw err;
      const waited = hashed > 0 ? 'yes' : 'no';
      console.log(`readFile waited for a pbkdf2 job to finish: ${waited}`);
      read = true;
      reportWhenDone();
    });
  },
  // ANCHOR_END: busy
  timer: () => setTimeout(report, 10),
  stdout: () => process.stdout.write('a line written by process.stdout\n', () => report()),
  retired: () => fs.readFile(__filename, () => setTimeout(report, 100)),
};

if (phase === undefined) {
  console.error(`usage: node threads.cjs PHASE; PHASE is one of: ${Object.keys(phases).join(', ')}`);
  process.exit(2);
}
if (!Object.hasOwn(phases, phase)) {
  console.error(`threads.cjs: unknown phase ${JSON.stringify(phase)}; one of: ${Object.keys(phases).join(', ')}`);
  process.exit(2);
}
phases[phase]();
