// Chapter 9: a Node program that does nothing. The test reads its signal masks in /proc.
// Run: node idle.js, then grep Sig /proc/PID/status
console.log(`ready pid=${process.pid}`);
setInterval(() => {}, 1 << 30);
