// Chapter 1, the Node.js view: what the process object says about itself.
// Run: node labs/lab-01-processes/node/card.js
// ANCHOR: card
console.log(`pid:      ${process.pid}`);
console.log(`ppid:     ${process.ppid}`);
console.log(`title:    ${process.title}`);
console.log(`argv:     ${JSON.stringify(process.argv)}`);
console.log(`exe:      ${process.execPath}`);
console.log(`cwd:      ${process.cwd()}`);
console.log(`platform: ${process.platform} (${process.arch})`);
console.log(`user:     uid=${process.getuid()} gid=${process.getgid()}`);
console.log(`env:      ${Object.keys(process.env).length} in total`);
console.log(`uptime:   ${process.uptime().toFixed(2)}s`);
// ANCHOR_END: card
