// dstar view: the live page. It reads the same endpoints a script would (docs/view.md): GET api/runs for the runs,
// GET api/runs/ID/rounds?from=N for their rounds, and the server-sent events of api/events for what changes. Charts
// are drawn by the bundled uPlot; the worker strip and the tables are plain DOM.
'use strict';
(() => {
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  const STRIP_ROUNDS = 120;
  const FINAL = new Set(['finished', 'stopped', 'failed']);
  const X_AXES = {
    round: { label: 'round', of: r => r.round + 1 },
    virtual: { label: 'virtual time (s)', of: r => r.virtual_time },
    wall: { label: 'wall time (s)', of: r => r.wall_time },
  };
  const CHARTS = [
    { key: 'accuracy', title: 'test accuracy', of: r => r.accuracy, points: true },
    { key: 'loss', title: 'validation loss (log scale)', of: r => (r.loss > 0 ? r.loss : null), log: true },
    { key: 'round_time', title: 'round time (s, virtual)', of: r => r.round_time },
  ];

  const runs = new Map(); // id -> { line, rounds: [] }
  let selected = null;
  let xAxis = 'round';
  let charts = [];
  let chartKey = '';
  let dirty = false;
  let events = null;
  let connection = 'connecting';
  let droppedUpdates = 0;

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v;
      else if (k === 'color') node.style.background = v; // through the CSSOM: the page's policy forbids inline style attributes
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  };
  const fmt = (v, digits) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
  const pct = v => (v === null || v === undefined || !Number.isFinite(v) ? '–' : (100 * v).toFixed(1) + ' %');

  async function getJson(url) {
    const response = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
    return response.json();
  }

  function upsert(line) {
    let run = runs.get(line.id);
    if (!run) {
      run = { line, rounds: [], loading: false };
      runs.set(line.id, run);
    }
    if (line.round < run.rounds.length) run.rounds = []; // the run started over
    run.line = line;
    if (selected === null) selected = line.id;
    if (line.round > run.rounds.length) fill(run);
    changed();
  }

  async function fill(run) {
    if (run.loading) return;
    run.loading = true;
    try {
      for (;;) {
        const page = await getJson(`api/runs/${run.line.id}/rounds?from=${run.rounds.length}`);
        if (page.from !== run.rounds.length) continue;
        for (const r of page.rounds) run.rounds.push(r);
        if (page.rounds.length === 0 || run.rounds.length >= run.line.round) break;
      }
    } catch (e) {
      status('could not read rounds: ' + e.message);
    } finally {
      run.loading = false;
      changed();
    }
  }

  function addRound(id, r) {
    const run = runs.get(id);
    if (!run) return reload();
    if (r.round < run.rounds.length) return;
    if (r.round > run.rounds.length || run.loading) return fill(run);
    run.rounds.push(r);
    run.line.round = Math.max(run.line.round, run.rounds.length);
    if (r.accuracy !== null) run.line.accuracy = r.accuracy;
    run.line.loss = r.loss;
    run.line.virtual_time = r.virtual_time;
    run.line.wall_time = r.wall_time;
    changed();
  }

  async function reload() {
    try {
      const data = await getJson('api/runs');
      for (const line of data.runs) upsert(line);
      droppedUpdates = data.dropped_updates;
    } catch (e) {
      status('could not read api/runs: ' + e.message);
    }
  }
  function connect() {
    events = new EventSource('api/events');
    events.addEventListener('open', () => { connection = 'live'; changed(); reload(); });
    events.addEventListener('run', e => upsert(JSON.parse(e.data)));
    events.addEventListener('round', e => { const m = JSON.parse(e.data); addRound(m.run, m.round); });
    events.addEventListener('resync', e => { droppedUpdates += JSON.parse(e.data).missed; reload(); });
    events.addEventListener('error', () => {
      const all = [...runs.values()];
      if (all.length > 0 && all.every(r => FINAL.has(r.line.state))) {
        // Every run is over and the process that served them has gone: keep what is shown.
        events.close();
        connection = 'not live: every run is over, and this page keeps their final state';
      } else {
        connection = 'reconnecting…';
      }
      changed();
    });
  }

  function status(text) {
    document.getElementById('status').textContent = text;
  }

  function changed() {
    if (dirty) return;
    dirty = true;
    setTimeout(render, 250);
  }

  function render() {
    dirty = false;
    const total = [...runs.values()].reduce((n, r) => n + r.rounds.length, 0);
    status(`${connection} · ${runs.size} run${runs.size === 1 ? '' : 's'} · ${total} rounds shown · updates dropped for slow browsers: ${droppedUpdates}`);
    renderRuns();
    renderCharts();
    renderRun();
  }

  function renderRuns() {
    const body = document.querySelector('#runs tbody');
    body.replaceChildren(...[...runs.values()].map((run, i) => {
      const l = run.line;
      const row = el('tr', { 'data-run': String(l.id), class: l.id === selected ? 'selected' : '', onclick: () => { selected = l.id; changed(); } },
        el('td', {}, el('span', { class: 'swatch', color: COLORS[i % COLORS.length] }), l.name),
        el('td', { class: 'state state-' + l.state, text: l.state + (l.problem ? ': ' + l.problem : '') }),
        el('td', { class: 'round-count', text: l.rounds ? `${l.round} / ${l.rounds}` : String(l.round) }),
        el('td', { text: pct(l.accuracy) }),
        el('td', { text: fmt(l.loss, 4) }),
        el('td', { text: fmt(l.virtual_time, 1) }),
        el('td', { text: fmt(l.wall_time, 1) }),
        el('td', { text: l.summary ? `${l.summary.byzantine_kept} of ${l.summary.byzantine_accepted}` : '–' }));
      return row;
    }));
  }

  function renderCharts() {
    const list = [...runs.values()];
    const key = xAxis + '|' + list.map(r => r.line.id + ':' + r.line.name).join(',');
    const holder = document.getElementById('charts');
    const width = Math.max(320, Math.min(900, holder.clientWidth / 2 - 24));
    if (key !== chartKey) {
      charts.forEach(c => c.destroy());
      holder.replaceChildren();
      charts = CHARTS.map(spec => {
        const box = el('div', { class: 'chart', 'data-chart': spec.key });
        holder.append(box);
        return new uPlot({
          title: spec.title,
          width,
          height: 260,
          scales: { x: { time: false }, y: spec.log ? { distr: 3 } : {} },
          axes: [{ label: X_AXES[xAxis].label }, { size: 64, values: (u, ticks) => ticks.map(tick) }],
          series: [{ label: X_AXES[xAxis].label }, ...list.map((run, i) => ({
            label: run.line.name,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            spanGaps: true,
            points: { show: !!spec.points, size: 5 },
          }))],
        }, data(spec, list), box);
      });
      chartKey = key;
    } else {
      charts.forEach((chart, i) => chart.setData(data(CHARTS[i], list)));
    }
  }

  // Axis labels stay short: a diverging loss reaches 1e6 and more.
  function tick(v) {
    if (v === null || v === undefined) return '';
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(0) : String(+v.toPrecision(3));
  }

  function data(spec, list) {
    const x = X_AXES[xAxis].of;
    const tables = list.map(run => {
      const xs = [], ys = [];
      for (const r of run.rounds) {
        const y = spec.of(r);
        const at = x(r);
        if (y === null || y === undefined || !Number.isFinite(y) || !Number.isFinite(at)) continue;
        if (xs.length > 0 && at <= xs[xs.length - 1]) continue;
        xs.push(at);
        ys.push(y);
      }
      return [xs, ys];
    });
    if (tables.length === 0 || tables.every(t => t[0].length === 0)) return [[], ...tables.map(() => [])];
    return uPlot.join(tables);
  }

  function statusOf(r, worker) {
    if (r.kept.includes(worker)) return ['kept', 'kept by the rule'];
    if (r.filtered.includes(worker)) return ['filtered', 'left out by the rule'];
    const drop = r.dropped.find(d => d.worker === worker);
    if (drop) return [drop.reason === 'late' ? 'late' : 'dropped', 'dropped: ' + drop.reason];
    if (r.accepted.includes(worker)) return ['kept', 'accepted'];
    return ['none', 'no gradient'];
  }

  function renderRun() {
    const run = runs.get(selected);
    const panel = document.getElementById('run');
    if (!run) { panel.replaceChildren(el('p', { text: 'No run yet.' })); return; }
    const l = run.line;
    const workers = l.workers || run.rounds.reduce((n, r) => Math.max(n, ...r.accepted.map(w => w + 1), ...r.dropped.map(d => d.worker + 1)), 0);
    const byzantine = new Set(l.byzantine || []);
    const recent = run.rounds.slice(-STRIP_ROUNDS);
    const strip = el('div', { id: 'strip', 'data-run': String(l.id) });
    const totals = Array.from({ length: workers }, () => ({ kept: 0, filtered: 0, late: 0, dropped: 0 }));
    for (const r of run.rounds) {
      for (let w = 0; w < workers; w++) {
        const [s] = statusOf(r, w);
        if (s in totals[w]) totals[w][s]++;
      }
    }
    for (let w = 0; w < workers; w++) {
      const row = el('div', { class: 'strip-row' + (byzantine.has(w) ? ' byzantine' : ''), 'data-worker': String(w), 'data-byzantine': String(byzantine.has(w)) },
        el('span', { class: 'strip-label', text: (byzantine.has(w) ? 'B ' : '') + w }));
      for (const r of recent) {
        const [s, why] = statusOf(r, w);
        row.append(el('span', { class: 'cell ' + s, 'data-status': s, title: `worker ${w}${byzantine.has(w) ? ' (Byzantine)' : ''}, round ${r.round + 1}: ${why}` }));
      }
      strip.append(row);
    }
    const table = el('table', { class: 'workers', id: 'worker-totals' },
      el('thead', {}, el('tr', {}, ...['worker', 'Byzantine', 'kept', 'filtered', 'late', 'other drops', 'kept share'].map(h => el('th', { text: h })))),
      el('tbody', {}, ...totals.map((t, w) => el('tr', { class: byzantine.has(w) ? 'byzantine' : '' },
        el('td', { text: String(w) }), el('td', { text: byzantine.has(w) ? 'yes' : '' }),
        el('td', { text: String(t.kept) }), el('td', { text: String(t.filtered) }), el('td', { text: String(t.late) }),
        el('td', { text: String(t.dropped) }), el('td', { text: run.rounds.length ? pct(t.kept / run.rounds.length) : '–' })))));
    const s = l.summary;
    panel.replaceChildren(
      el('h2', { text: l.name }),
      el('p', { class: 'description', text: l.description || '' }),
      s ? el('p', { class: 'summary', text: `final accuracy ${pct(s.final_accuracy)} (best ${pct(s.best_accuracy)}); Byzantine gradients kept ${s.byzantine_kept} of ${s.byzantine_accepted}; filter precision ${fmt(s.filter_precision, 3)}, recall ${fmt(s.filter_recall, 3)}` + (s.stop_reason ? `; stopped at round ${s.stopped_at_round}: ${s.stop_reason}` : '') }) : '',
      el('h3', { text: `Workers × last ${recent.length} rounds` }),
      el('p', { class: 'legend' }, ...['kept', 'filtered', 'late', 'dropped', 'none'].map(k => el('span', {}, el('span', { class: 'cell ' + k }), ' ' + ({ kept: 'kept', filtered: 'filtered by the rule', late: 'late', dropped: 'dropped (stale, duplicate, malformed)', none: 'no gradient' })[k])), el('span', {}, el('b', { text: 'B' }), ' Byzantine (known in simulation)')),
      strip,
      el('h3', { text: 'Per-worker totals' }),
      table);
  }

  function build() {
    document.getElementById('static').remove();
    const live = document.getElementById('live');
    live.hidden = false;
    const buttons = Object.entries(X_AXES).map(([key, axis]) =>
      el('button', { type: 'button', 'data-x': key, class: key === xAxis ? 'on' : '', onclick: () => {
        xAxis = key;
        document.querySelectorAll('#x-axis button').forEach(b => b.classList.toggle('on', b.dataset.x === key));
        changed();
      } }, axis.label));
    live.append(
      el('table', { id: 'runs', class: 'runs' },
        el('thead', {}, el('tr', {}, ...['run', 'state', 'round', 'accuracy', 'validation loss', 'virtual time (s)', 'wall time (s)', 'Byzantine kept'].map(h => el('th', { text: h })))),
        el('tbody')),
      el('p', { id: 'x-axis' }, 'x axis: ', ...buttons),
      el('div', { id: 'charts' }),
      el('section', { id: 'run' }));
    window.addEventListener('resize', () => { chartKey = ''; changed(); });
  }

  build();
  reload();
  connect();
})();
