// Chapter 1, the Node.js view: an 'uncaughtException' listener replaces the default
// "print the stack and exit with code 1". The process goes on: a timer still fires.
// Run: node uncaught.js
// ANCHOR: uncaught
process.on('uncaughtException', (err, origin) => {
  console.error(`listener: ${origin}: ${err.message}`);
  process.exitCode = 70; // the code to exit with when the loop runs dry
});
process.on('exit', (code) => console.log(`exit listener: code ${code}`));
setTimeout(() => console.log('timer: still running after the error'), 0);
console.log('main: working');
throw new Error('something went wrong');
// ANCHOR_END: uncaught
