// Chapter 6: a Node parent that makes a listening server and sends it to a child over
// the IPC channel. The child is the program named on the command line (serve-handle).
// ANCHOR: send_server
const { spawn } = require('node:child_process');
const { readlinkSync } = require('node:fs');
const net = require('node:net');

const child = spawn(process.argv[2], [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const server = net.createServer(); // no 'connection' handler: we never serve here
let port;
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  const fd = server._handle.fd;
  console.log(`node parent pid=${process.pid}: listening on 127.0.0.1:${port}, ` +
    `fd ${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
  child.send('server', server); // envelope + fd; our copy stays open and listening
});
child.on('message', (msg) => {
  console.log(`node parent got ${JSON.stringify(msg)}`);
  // Node keeps listening on a sent server: close our copy, or we would race the child
  // for every connection.
  server.close(() => console.log(`node parent closed its copy; ready addr=127.0.0.1:${port}`));
});
// At the end of our stdin, disconnect: the child sees end of file and exits.
process.stdin.on('end', () => child.disconnect()).resume();
child.on('exit', (code) => console.log(`child exited with code ${code}`));
// ANCHOR_END: send_server
