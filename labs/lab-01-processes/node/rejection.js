// Chapter 1, the Node.js view: a rejected promise that nobody handles. Since Node 15
// the default is to treat it like an uncaught exception: print it, exit with code 1.
// Run: node rejection.js
// ANCHOR: rejection
process.on('exit', (code) => console.log(`exit listener: code ${code}`));
console.log('main: working');
async function connect() {
  throw new Error('database unreachable');
}
connect(); // no await, no .catch()
// ANCHOR_END: rejection
