// Chapter 9: which signals are ignored or blocked in Node itself, and in a child it starts?
// Run: node spawn-report.js, and again as nohup node spawn-report.js
// ANCHOR: spawn_report
const fs = require('fs');
const { spawnSync } = require('child_process');

// Bit n-1 of a /proc/PID/status mask stands for signal n.
function has(status, field, signal) {
  const mask = BigInt('0x' + status.match(new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm'))[1]);
  return ((mask >> BigInt(signal - 1)) & 1n) === 1n;
}

function describe(who, status) {
  const ign = (signal) => (has(status, 'SigIgn', signal) ? 'ignored' : 'not ignored');
  const blocked = BigInt('0x' + status.match(/^SigBlk:\s*([0-9a-f]+)/m)[1]);
  console.log(`${who}: SIGHUP ${ign(1)}, SIGPIPE ${ign(13)}, SIGXFSZ ${ign(25)}, ` +
    `blocked mask ${blocked ? 'not empty' : 'empty'}`);
}

describe('node itself', fs.readFileSync('/proc/self/status', 'utf8'));
// `cat` reads its own status: /proc/self is the process that opens it.
const child = spawnSync('cat', ['/proc/self/status'], { encoding: 'utf8' });
describe('child (cat)', child.stdout);
// ANCHOR_END: spawn_report
