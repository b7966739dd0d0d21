// Chapter 1, the Node.js view: process.title. The new title comes from the TITLE
// environment variable (not from an argument, which would make the argv area longer).
// Run (in labs/lab-01-processes/node): TITLE=node-worker-long-title node set-title.js
// and press Enter twice; look at /proc/PID/comm and /proc/PID/cmdline in between.
// ANCHOR: title
console.log(`process.title: ${process.title}`);
console.log(`ready pid=${process.pid} (press Enter to set the title)`);
process.stdin.once('data', () => {
  const title = process.env.TITLE;
  process.title = title;
  console.log(`set to:        ${title} (${Buffer.byteLength(title)} bytes)`);
  console.log(`process.title: ${process.title}`);
  console.log('ready (press Enter to exit)');
  process.stdin.once('data', () => process.exit(0));
});
// ANCHOR_END: title
