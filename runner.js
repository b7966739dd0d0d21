// Run buttons for the demos a chapter lists, when the book is served by `cargo xtask runner`.
//
// The runner prints a URL with a token in the fragment (#runner=…). This script keeps the
// token in sessionStorage (this tab only), removes it from the address bar, asks the runner
// which of the page's commands it may run, and adds a Run button under each. Output and a
// live table of the demo's processes stream into a panel under the block. Without a runner,
// the page shows one line saying how to start it, and runs nothing.
(() => {
  'use strict';
  const KEY = 'processes-and-threads-runner-token';
  const found = /(?:^#|&)runner=([0-9a-f]{32})(?:&|$)/.exec(location.hash);
  if (found) {
    sessionStorage.setItem(KEY, found[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem(KEY);
  const page = decodeURIComponent(location.pathname.split('/').pop() || 'index.html');
  const main = document.querySelector('main');
  if (!main) return;

  // Code blocks with `$ ` lines, and their commands as the runner's allow-list writes them.
  const blocks = Array.from(main.querySelectorAll('pre > code'))
    .map((code) => ({
      code,
      commands: code.textContent
        .split('\n')
        .filter((line) => line.startsWith('$ '))
        .map((line) => line.slice(2).replace(/\s+#.*$/, '').trim()),
    }))
    .filter((b) => b.commands.length > 0);
  // Only chapters (NN-slug.html) list demos the runner knows.
  const looksRunnable = (cmd) => /(^|\s|")(\.\/target\/|\$PWD\/target\/|cargo run )/.test(cmd);
  if (!/^\d\d-/.test(page) || !blocks.some((b) => b.commands.some(looksRunnable))) return;

  const hint = (why) => {
    const p = document.createElement('p');
    p.className = 'runner-hint';
    p.append(why + ' Start ');
    const code = document.createElement('code');
    code.textContent = 'cargo xtask runner';
    p.append(code, ' in the repository and open the link it prints to run them from this page.');
    main.prepend(p);
  };
  if (!token) {
    hint('The demos on this page can run from the page.');
    return;
  }
  const headers = { 'x-runner-token': token };
  fetch('/api/demos?page=' + encodeURIComponent(page), { headers })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error('status ' + r.status))))
    .then((answer) => attach(answer.demos))
    .catch(() => hint('The runner did not answer.'));

  function attach(demos) {
    for (const block of blocks) {
      const pre = block.code.parentElement;
      const runnable = block.commands
        .map((cmd) => demos.find((d) => d.shown === cmd))
        .filter((d, i, all) => d && all.indexOf(d) === i);
      if (runnable.length === 0) continue;
      const bar = document.createElement('div');
      bar.className = 'runner-bar';
      for (const demo of runnable) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'runner-run';
        button.dataset.demo = String(demo.id);
        button.textContent = '▶ Run ' + demo.shown;
        button.addEventListener('click', () => start(demo, pre, button));
        bar.append(button);
      }
      pre.after(bar);
    }
  }

  function start(demo, pre, button) {
    let panel = document.querySelector(`.runner-panel[data-demo="${demo.id}"]`);
    if (!panel) {
      panel = document.createElement('div');
      panel.className = 'runner-panel';
      panel.dataset.demo = String(demo.id);
      panel.innerHTML =
        '<div class="runner-status"></div><pre class="runner-output"></pre>' +
        '<table class="runner-procs"><thead><tr><th>pid</th><th>ppid</th><th>pgid</th>' +
        '<th>sid</th><th>state</th><th>comm</th><th>threads</th><th>fds</th></tr></thead>' +
        '<tbody></tbody></table>';
      button.parentElement.after(panel);
    }
    const status = panel.querySelector('.runner-status');
    const output = panel.querySelector('.runner-output');
    const tbody = panel.querySelector('.runner-procs tbody');
    output.textContent = '';
    tbody.textContent = '';
    const controller = new AbortController();
    button.disabled = true;
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.className = 'runner-stop';
    stop.textContent = '■ Stop';
    stop.addEventListener('click', () => controller.abort());
    status.textContent = 'building and starting…';
    status.append(' ', stop);
    const write = (text, cls) => {
      const span = document.createElement('span');
      if (cls) span.className = cls;
      span.textContent = text;
      output.append(span);
    };
    const done = (text) => {
      status.textContent = text;
      button.disabled = false;
    };
    fetch('/api/run', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ id: demo.id }),
      signal: controller.signal,
    })
      .then(async (r) => {
        if (!r.ok) {
          done('refused: ' + (await r.text()).trim());
          return;
        }
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let rest = '';
        let ended = false;
        for (;;) {
          const { value, done: eof } = await reader.read();
          if (eof) break;
          rest += value;
          let nl;
          while ((nl = rest.indexOf('\n')) >= 0) {
            const event = JSON.parse(rest.slice(0, nl));
            rest = rest.slice(nl + 1);
            if (event.type === 'build') write(event.text, 'runner-build');
            else if (event.type === 'start') status.firstChild.textContent = `running, pid ${event.pid} `;
            else if (event.type === 'stdout') write(event.text);
            else if (event.type === 'stderr') write(event.text, 'runner-stderr');
            else if (event.type === 'procs') draw(tbody, event.procs);
            else if (event.type === 'exit') {
              write('=> ' + event.outcome + '\n', 'runner-exit');
              done('finished');
              ended = true;
            } else if (event.type === 'error') {
              write(event.message + '\n', 'runner-stderr');
              done('stopped');
              ended = true;
            }
          }
        }
        if (!ended) done('the runner closed the stream');
      })
      .catch((e) => done(e.name === 'AbortError' ? 'stopped: its processes were killed' : 'failed: ' + e.message));
  }

  // The process table, as a tree: children under their parent, indented.
  function draw(tbody, procs) {
    const byParent = new Map();
    const pids = new Set(procs.map((p) => p.pid));
    for (const p of procs) {
      const parent = pids.has(p.ppid) ? p.ppid : 0;
      if (!byParent.has(parent)) byParent.set(parent, []);
      byParent.get(parent).push(p);
    }
    const rows = [];
    const walk = (parent, depth) => {
      for (const p of byParent.get(parent) || []) {
        rows.push([p, depth]);
        walk(p.pid, depth + 1);
      }
    };
    walk(0, 0);
    tbody.textContent = '';
    for (const [p, depth] of rows) {
      const tr = document.createElement('tr');
      tr.className = 'runner-proc state-' + p.state;
      const cells = [p.pid, p.ppid, p.pgid, p.sid, p.state,
        '\u00a0\u00a0'.repeat(depth) + p.comm, p.threads.join(', '), p.fds];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = String(c);
        tr.append(td);
      }
      tbody.append(tr);
    }
  }
})();
