// Chapter 1, the Node.js view: which exit listeners run on each way out.
// Run: node labs/lab-01-processes/node/exit-paths.js --how return|exit|throw|signal
// ANCHOR: exit_paths
const how = process.argv[process.argv.indexOf('--how') + 1];
process.on('exit', (code) => console.log(`exit listener: code ${code}`));
console.log('main: working');
if (how === 'exit') process.exit(3);
if (how === 'throw') throw new Error('something went wrong');
if (how === 'signal') process.kill(process.pid, 'SIGTERM');
// ANCHOR_END: exit_paths
