// Chapter 1, the Node.js view: process.exitCode, 'beforeExit', and why an 'exit'
// listener must be synchronous.
// Run: node exit-code.js
// ANCHOR: exit_code
process.exitCode = 7; // exit with 7 once nothing is left to do
process.on('beforeExit', (code) => console.log(`beforeExit: code ${code}`));
process.on('exit', (code) => {
  console.log(`exit listener: code ${code}`);
  setTimeout(() => console.log('exit listener: timer fired'), 0); // never runs
});
console.log('main: done');
// ANCHOR_END: exit_code
