// Chapter 9: child.kill() and the 'exit' event's (code, signal) pair. Run: node kill-child.js
// ANCHOR: kill_child
const { spawn } = require('child_process');

function exited(child) {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

function alive(pid) {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return 'yes';
  } catch (err) {
    return `no (${err.code})`;
  }
}

async function main() {
  const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  console.log(`sleep started, alive: ${alive(sleeper.pid)}`);
  sleeper.kill(); // SIGTERM by default
  let { code, signal } = await exited(sleeper);
  console.log(`child.kill():            exit code=${code} signal=${signal}`);
  console.log(`after the 'exit' event, alive: ${alive(sleeper.pid)}`);

  const stubborn = spawn('sleep', ['1000'], { stdio: 'ignore' });
  stubborn.kill('SIGKILL');
  ({ code, signal } = await exited(stubborn));
  console.log(`child.kill('SIGKILL'):   exit code=${code} signal=${signal}`);

  const failing = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
  ({ code, signal } = await exited(failing));
  console.log(`sh -c 'exit 3':          exit code=${code} signal=${signal}`);
}

main();
// ANCHOR_END: kill_child
