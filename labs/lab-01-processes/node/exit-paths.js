// Chapter 1, the Node.js view: which exit listeners run on each way out.
// Run: node exit-paths.js --how return|exit|exit-256|throw|signal
// ANCHOR: exit_paths
const how = process.argv[process.argv.indexOf('--how') + 1];
process.on('exit', (code) => console.log(`exit listener: code ${code}`));
console.log('main: working');
if (how === 'exit') process.exit(3);
if (how === 'exit-256') process.exit(256); // the kernel keeps 8 bits: 256 & 0xff = 0
if (how === 'throw') throw new Error('something went wrong');
if (how === 'signal') process.kill(process.pid, 'SIGTERM');
// ANCHOR_END: exit_paths
