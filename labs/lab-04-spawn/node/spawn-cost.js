// Chapter 4, measure it: the Node.js column of the spawn-cost experiment. Starts `true`
// COUNT times, one after the other (spawn, then wait for 'exit'), and prints the total
// time in milliseconds. PROGRAM defaults to `true` (found on PATH). TOUCH_MIB fills that
// many MiB first, as the Rust side's --touch-mib does: libuv starts children with a real
// fork (clone without CLONE_VM), so a big Node process pays for its page tables too.
// Run: node spawn-cost.js 100 [PROGRAM] [TOUCH_MIB]
const { spawn } = require('node:child_process');

const count = Number(process.argv[2] ?? 100);
const program = process.argv[3] ?? 'true';
const touchMib = Number(process.argv[4] ?? 0);
if (!Number.isInteger(count) || count < 1) {
  console.error('spawn-cost.js: COUNT must be a positive integer');
  process.exit(2);
}
if (!Number.isInteger(touchMib) || touchMib < 0) {
  console.error('spawn-cost.js: TOUCH_MIB must be a whole number of MiB');
  process.exit(2);
}
const ballast = Buffer.alloc(touchMib * 1024 * 1024, 1); // every page written

function once() {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

(async () => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await once();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(ms.toFixed(3));
  ballast[0] = 2; // keep it alive to the end
})();
