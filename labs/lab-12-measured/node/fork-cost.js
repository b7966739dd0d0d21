// Chapter 12, measure it: the Node.js side of "create + destroy". Starts COUNT children
// with child_process.fork(), one after the other, and times each from the call until the
// child's first message arrives; then waits for the child to exit before the next one
// (that wait is not timed). Prints the mean time to first message in microseconds.
// Run: node fork-cost.js 5
const { fork } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');

const count = Number(process.argv[2] ?? 5);
if (!Number.isInteger(count) || count < 1) {
  console.error('fork-cost.js: COUNT must be a positive integer');
  process.exit(2);
}

(async () => {
  let total = 0n;
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const child = fork(path.join(__dirname, 'fork-child.js'));
    const exited = once(child, 'exit');
    await once(child, 'message');
    total += process.hrtime.bigint() - started;
    await exited;
  }
  console.log((Number(total) / 1e3 / count).toFixed(1));
})();
