// Chapter 4, shared by exec.js and exec-group.js: find the background `sleep MARKER` a
// shell left behind, by its exact command line in /proc. The marker (an odd duration such
// as 31.4159) makes it this program's own sleep and nobody else's.
'use strict';
const fs = require('node:fs');

// A killed sleep that nobody has reaped yet is a zombie with an empty cmdline: not found.
function findSleep(marker) {
  const wanted = `sleep\u0000${marker}\u0000`;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1') === wanted) return pid;
    } catch { /* gone meanwhile */ }
  }
  return null;
}

// The shell forks the sleep before the pipeline runs, but the sleep may not have reached
// exec yet: look for it in /proc for up to `ms` milliseconds (there is no event to wait on).
function waitForSleep(marker, ms, done) {
  const until = Date.now() + ms;
  const look = () => {
    const pid = findSleep(marker);
    if (pid || Date.now() > until) return done(pid);
    setTimeout(look, 10);
  };
  look();
}

module.exports = { findSleep, waitForSleep };
