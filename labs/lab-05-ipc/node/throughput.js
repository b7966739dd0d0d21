// Chapter 5: Node's side of lab-05's throughput experiment (cargo run --release -p
// lab-05 --bin throughput runs it). The parent forks itself; it sends MESSAGES messages
// with process.send and the child counts them in its 'message' listener and answers
// {done} after the last one; then ROUNDTRIPS ping-pongs, one at a time. The clock starts
// when the child has said {ready}, as in the Rust tests.
// Prints three lines: "messages_per_s X" (end to end: first send to the child's {done}),
// "send_loop_per_s Y" (the parent's loop of child.send calls alone: they only serialize
// and queue the writes, which libuv finishes later) and "roundtrip_us Z".
const { fork } = require('node:child_process');

const [mode, messagesArg, roundtripsArg] = process.argv.slice(2);
const messages = Number(messagesArg);
const roundtrips = Number(roundtripsArg);

if (mode === 'child') {
  let count = 0;
  process.send({ ready: 'node' });
  process.on('message', (m) => {
    if (m.ping !== undefined) process.send(m);
    else if (++count === messages) process.send({ done: count });
  });
} else {
  const child = fork(__filename, ['child', String(messages), String(roundtrips)]);
  let started;
  let pings = 0;
  child.on('message', (m) => {
    const now = process.hrtime.bigint();
    if (m.ready !== undefined) {
      started = process.hrtime.bigint();
      for (let seq = 0; seq < messages; seq++) child.send({ seq, body: 'hello, channel' });
      const loopSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(`send_loop_per_s ${(messages / loopSeconds).toFixed(0)}`);
    } else if (m.done !== undefined) {
      const seconds = Number(now - started) / 1e9;
      console.log(`messages_per_s ${(messages / seconds).toFixed(0)}`);
      started = process.hrtime.bigint();
      child.send({ ping: pings });
    } else if (++pings < roundtrips) {
      child.send({ ping: pings });
    } else {
      console.log(`roundtrip_us ${(Number(now - started) / 1e3 / roundtrips).toFixed(2)}`);
      child.disconnect();
    }
  });
}
