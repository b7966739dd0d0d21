// Chapter 6: a Node child that sends an accepted connection (a net.Socket) to its parent,
// then a plain message, which waits for the answer. The parent is a Rust test that
// answers NODE_HANDLE_NACK as often as it likes: watch what Node resends. With the
// argument `server`, it sends the listening server instead.
// ANCHOR: send_socket
const net = require('node:net');

process.on('warning', (w) => console.log(`node warning: ${w.name}: ${w.message}`));
const server = net.createServer((socket) => {
  process.send('sock', socket); // envelope (with "key") + fd; closed here on the ack
  process.send({ after: 'sock' }); // queued until the answer
  console.log('node sent the socket, then a message');
});
server.listen(0, '127.0.0.1', () => {
  process.on('disconnect', () => server.close()); // the parent closed the channel: stop
  if (process.argv[2] === 'server') {
    process.send('srv', server);
    process.send({ after: 'srv' });
    return;
  }
  const client = net.connect(server.address().port, '127.0.0.1');
  client.on('data', (d) => console.log(`node client got ${JSON.stringify(String(d))}`));
  client.on('end', () => console.log('node client got end of file'));
  process.on('disconnect', () => client.destroy());
});
// ANCHOR_END: send_socket
