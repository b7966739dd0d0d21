// Chapter 1, the Node.js view: what the process object says about itself.
// Run (from the repository root, as the book shows):
//   env -i -C / GREETING=hello "$(command -v node)" "$PWD/labs/lab-01-processes/node/card.js" < /dev/null 2>&1 | cat
// ANCHOR: card
console.log(`pid:      ${process.pid}`);
console.log(`ppid:     ${process.ppid}`);
console.log(`title:    ${process.title}`);
console.log(`argv0:    ${process.argv0}`);
console.log(`argv:     ${JSON.stringify(process.argv)}`);
console.log(`execPath: ${process.execPath}`);
console.log(`cwd:      ${process.cwd()}`);
console.log(`platform: ${process.platform} (${process.arch})`);
console.log(`user:     uid=${process.getuid()} gid=${process.getgid()}`);
console.log(`env:      ${Object.keys(process.env).length} in total; GREETING=${process.env.GREETING}`);
console.log(`uptime:   ${process.uptime().toFixed(2)}s`);
// ANCHOR_END: card
