// Chapter 5: a Node child that a Rust parent starts with a channel at fd 3
// (lab-05's spawn_with_channel). It needs nothing special: Node finds NODE_CHANNEL_FD
// and sets up process.send / process.on('message') by itself.
// ANCHOR: child
process.on('message', (msg) => {
  process.send({ n: msg.n, square: msg.n * msg.n, by: 'node' });
});
// When the parent closes its end, 'disconnect' fires; with nothing else to do,
// the event loop is empty and the process exits with code 0.
process.on('disconnect', () => console.error('node child: parent disconnected'));
// ANCHOR_END: child
