// Chapter 4, the Node.js view of execFile vs exec: the same file name, with shell
// syntax in it, passed as an argument (no shell) and spliced into a command line.
// Run in an empty directory DIR: node exec-file.js DIR
const fs = require('node:fs');
const dir = process.argv[2];
if (!dir || !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
  console.error('exec-file.js: usage: node exec-file.js DIR (an existing, empty directory)');
  process.exit(2);
}
// ANCHOR: inject
const { execFile, exec } = require('node:child_process');
const path = require('node:path');

const marker = path.join(dir, 'MARKER');
const name = 'x; touch MARKER';

execFile('cat', [name], { cwd: dir }, (err, stdout, stderr) => {
  if (err && typeof err.code === 'string') throw err; // cat did not even start
  console.log(`execFile('cat', [name]): ${stderr.trim()}`);
  console.log(`  MARKER exists: ${fs.existsSync(marker)}`);
  exec(`cat ${name}`, { cwd: dir }, (err, stdout, stderr) => {
    console.log(`exec('cat ' + name): ${stderr.trim()}`);
    console.log(`  MARKER exists: ${fs.existsSync(marker)}`);
  });
});
// ANCHOR_END: inject
