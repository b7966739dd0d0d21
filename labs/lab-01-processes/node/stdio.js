// Chapter 1, the Node.js view: the three standard streams are stream objects whose kind
// depends on what fd 0, 1 and 2 are: a terminal, a file, a pipe.
// Run: node stdio.js < /dev/null 2>/dev/null | cat
// ANCHOR: stdio
const streams = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
for (const [name, stream] of Object.entries(streams)) {
  console.log(`${name}: isTTY=${stream.isTTY === true}, ${stream.constructor.name}`);
}
// ANCHOR_END: stdio
