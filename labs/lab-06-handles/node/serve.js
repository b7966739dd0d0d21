// Chapter 6: a Node child that receives a listening server from its parent (a Rust
// program: send-listener) and serves on it. It reports over IPC, so the parent prints.
// ANCHOR: serve
const { readlinkSync } = require('node:fs');

let server;
process.on('message', (msg, handle) => {
  if (handle) { // a net.Server, rebuilt by Node from the fd that came with the message
    server = handle;
    const fd = server._handle.fd;
    server.on('connection', (socket) => {
      socket.resume(); // read and drop the request
      const body = `hello from node ${process.pid}`;
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n` +
        `Connection: close\r\n\r\n${body}`);
    });
    process.send({ got: msg, fd, link: readlinkSync(`/proc/self/fd/${fd}`), pid: process.pid });
  } else {
    process.send({ echo: msg });
  }
});
// The parent closed the channel: stop serving, and the event loop ends.
process.on('disconnect', () => server?.close());
// ANCHOR_END: serve
