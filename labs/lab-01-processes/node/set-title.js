// Chapter 1, the Node.js view: process.title, then wait for a line on stdin so that the
// process can be looked at from outside (cat /proc/PID/comm /proc/PID/cmdline).
// Run: node labs/lab-01-processes/node/set-title.js node-worker-long-title
// ANCHOR: title
process.title = process.argv[2];
console.log(`process.title: ${process.title}`);
console.log(`ready pid=${process.pid}`);
process.stdin.once('data', () => process.exit(0));
process.stdin.once('end', () => process.exit(0));
// ANCHOR_END: title
