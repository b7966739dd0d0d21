// Chapter 1, the Node.js view: writes to a pipe are asynchronous. Write BYTES bytes to
// stdout, then call process.exit() at once: whatever the pipe did not take yet is lost.
// With --let-it-end, set process.exitCode instead and let the event loop finish the write.
// Run: node flood.js 204800 | (sleep 1; wc -c)
// ANCHOR: flood
const bytes = Number(process.argv[2]);
process.stdout.write('x'.repeat(bytes));
if (process.argv[3] === '--let-it-end') {
  process.exitCode = 0; // ends once the pending write is done
} else {
  process.exit(0); // ends now
}
// ANCHOR_END: flood
