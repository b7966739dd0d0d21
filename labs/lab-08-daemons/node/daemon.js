// Chapter 8: a Node.js "daemon": it appends its pid and its parent's pid to a log file
// every 100 ms, so the log shows the moment its parent exits and it is re-parented.
// Usage: node daemon.js LOGFILE
// ANCHOR: daemon
const fs = require('node:fs');

const logFile = process.argv[2];
const log = (line) => fs.appendFileSync(logFile, line + '\n');

log(`daemon.js pid=${process.pid} cwd=${process.cwd()}`);
setInterval(() => log(`pid=${process.pid} ppid=${process.ppid}`), 100);
// ANCHOR_END: daemon
