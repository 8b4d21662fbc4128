// dstar view: the live page. It reads the same endpoints a script would (docs/view.md): GET api/runs for the runs,
// GET api/runs/ID/rounds?from=N for their rounds, GET api/study for a study's grid and report, GET api/cluster for a
// cluster's connections, and the server-sent events of api/events for what changes. Charts are drawn by the bundled
// uPlot; the grid, the worker strip and the tables are plain DOM.
'use strict';
(() => {
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  const STRIP_ROUNDS = 120;
  const MAX_CHARTED = 12; // with more runs (a study), the charts show the selected run and its cell's seeds
  const FINAL = new Set(['finished', 'stopped', 'failed', 'incomplete']);
  const X_AXES = {
    round: { label: 'round', of: r => r.round + 1 },
    virtual: { label: 'virtual time (s)', of: r => r.virtual_time },
    wall: { label: 'wall time (s)', of: r => r.wall_time },
  };
  const CHARTS = [
    { key: 'accuracy', title: 'test accuracy', of: r => r.accuracy, points: true },
    { key: 'loss', title: 'validation loss (log scale)', of: r => (r.loss > 0 ? r.loss : null), log: true },
    { key: 'round_time', title: 'round time (s, transport clock: virtual in simulation)', of: r => r.round_time },
    { key: 'wall_round', title: 'wall seconds per round (this process)', of: (r, p) => (p ? r.wall_time - p.wall_time : r.wall_time) },
  ];

  const runs = new Map(); // id -> { line, rounds: [] }
  let selected = null;
  let selectedCell = null;
  let xAxis = 'round';
  let charts = [];
  let chartKey = '';
  let phaseChart = null;
  let dirty = false;
  let events = null;
  let connection = 'connecting';
  let droppedUpdates = 0;
  let study = null; // api/study, cells by index
  let studyReportVersion = null;
  let cluster = null; // api/cluster
  let clusterFetched = 0;
  let clusterTimer = null;

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
  const seconds = v => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v >= 10 ? v.toFixed(1) + ' s' : v >= 0.01 ? v.toFixed(3) + ' s' : (1000 * v).toFixed(2) + ' ms');
  // Accuracy in [0, 1] as a background from pale red (0) through pale yellow to green (1).
  const heat = v => (v === null || v === undefined || !Number.isFinite(v) ? '' : `hsl(${Math.round(120 * Math.max(0, Math.min(1, v)))}, 65%, ${Math.round(88 - 18 * v)}%)`);

  async function getJson(url) {
    const response = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
    return response.json();
  }

  // ---- runs ----

  function charted(run) {
    if (runs.size <= MAX_CHARTED) return true;
    if (run.line.id === selected) return true;
    const cell = study && selectedCell !== null ? study.cells[selectedCell] : null;
    return !!cell && cell.seeds.some(s => s.run === run.line.id);
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
    if (line.round > run.rounds.length && charted(run)) fill(run);
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

  function fillCharted() {
    for (const run of runs.values()) if (charted(run) && run.line.round > run.rounds.length) fill(run);
  }

  function addRound(id, r) {
    const run = runs.get(id);
    if (!run) return reload();
    run.line.round = Math.max(run.line.round, r.round + 1);
    if (r.accuracy !== null) run.line.accuracy = r.accuracy;
    run.line.loss = r.loss;
    run.line.virtual_time = r.virtual_time;
    run.line.wall_time = r.wall_time;
    if (charted(run) && r.round >= run.rounds.length) {
      if (r.round > run.rounds.length || run.loading) fill(run);
      else run.rounds.push(r);
    }
    changed();
  }

  async function reload() {
    try {
      const data = await getJson('api/runs');
      for (const line of data.runs) upsert(line);
      droppedUpdates = data.dropped_updates;
      if (data.study) loadStudy();
      if (data.cluster) loadCluster();
    } catch (e) {
      status('could not read api/runs: ' + e.message);
    }
  }

  // ---- study ----

  async function loadStudy() {
    try {
      const data = await getJson('api/study');
      study = data;
      studyReportVersion = data.report ? data.report.version : null;
      changed();
    } catch (e) {
      status('could not read api/study: ' + e.message);
    }
  }

  function studyEvent(data) {
    if (!study) return loadStudy();
    for (const key of ['state', 'runs', 'name']) study[key] = data[key];
    for (const cell of data.cells) study.cells[cell.index] = cell;
    if ((data.report_version ?? null) !== studyReportVersion) loadStudy();
    changed();
  }

  // ---- cluster ----

  async function loadCluster() {
    try {
      cluster = await getJson('api/cluster');
      clusterFetched = Date.now();
      changed();
    } catch (e) {
      status('could not read api/cluster: ' + e.message);
    }
    if (!clusterTimer) {
      // Last-seen times move without events: re-read every 2 s while the page is live.
      clusterTimer = setInterval(() => { if (connection === 'live') loadCluster(); else changed(); }, 2000);
    }
  }

  function connect() {
    events = new EventSource('api/events');
    events.addEventListener('open', () => { connection = 'live'; changed(); reload(); });
    events.addEventListener('run', e => upsert(JSON.parse(e.data)));
    events.addEventListener('rounds', e => { const m = JSON.parse(e.data); m.rounds.forEach(r => addRound(m.run, r)); });
    events.addEventListener('study', e => studyEvent(JSON.parse(e.data)));
    events.addEventListener('cluster', e => { cluster = JSON.parse(e.data); clusterFetched = Date.now(); if (!clusterTimer) loadCluster(); changed(); });
    events.addEventListener('resync', e => { droppedUpdates += JSON.parse(e.data).missed; reload(); });
    events.addEventListener('error', () => {
      const all = [...runs.values()];
      if (all.length > 0 && all.every(r => FINAL.has(r.line.state)) && (!study || study.state !== 'running')) {
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
    status(`${connection} · ${runs.size} run${runs.size === 1 ? '' : 's'} · ${total} rounds loaded · updates dropped for slow browsers: ${droppedUpdates}`);
    renderStudy();
    renderCluster();
    renderRuns();
    renderCharts();
    renderRun();
  }

  function renderStudy() {
    const panel = document.getElementById('study');
    if (!study) { panel.hidden = true; return; }
    panel.hidden = false;
    const s = study;
    // The report's reading of a cell: its rule, its attack, the scenario (the other varying keys), the tuned value.
    const keys = [...new Set(s.cells.flatMap(c => Object.keys(c.scenario)))];
    const tuned = s.tune_key !== null;
    const head = el('tr', {}, ...['#', 'rule', 'attack', ...keys, ...(tuned ? [s.tune_key] : []), 'state', 'seeds', 'final accuracy (mean ± std)'].map(h => el('th', { text: h })));
    const rows = s.cells.map(c => {
      const seeds = el('td', { class: 'seeds' }, ...c.seeds.map(x => el('span', {
        class: 'seed state-' + x.state, 'data-state': x.state,
        title: `seed ${x.seed}: ${x.state}` + (x.final_accuracy !== null ? `, final accuracy ${pct(x.final_accuracy)}` : '') + (x.error ? ` — ${x.error}` : ''),
        text: String(x.seed),
      })));
      const accuracy = el('td', {
        class: 'cell-accuracy',
        text: c.final_accuracy_mean === null ? '–' : pct(c.final_accuracy_mean) + (c.finished > 1 ? ' ± ' + (100 * c.final_accuracy_std).toFixed(1) : ''),
      });
      if (c.final_accuracy_mean !== null) accuracy.style.background = heat(c.final_accuracy_mean);
      return el('tr', {
        'data-cell': String(c.index), 'data-name': c.name, title: c.name, class: c.index === selectedCell ? 'selected' : '',
        onclick: () => { selectedCell = c.index; selected = c.seeds[0].run; chartKey = ''; fillCharted(); changed(); },
      },
      el('td', { text: String(c.index + 1) }),
      el('td', { text: c.rule }), el('td', { text: c.attack }),
      ...keys.map(k => el('td', { text: c.scenario[k] ?? '' })),
      ...(tuned ? [el('td', { text: c.tune_value ?? '' })] : []),
      el('td', { class: 'cell-state state-' + c.state, text: c.state }),
      seeds, accuracy);
    });
    const r = s.runs;
    const children = [
      el('h2', { text: `Study ${s.name}` }),
      el('p', { class: 'study-line', text: `${s.state} · ${s.cell_count} cells, ${r.total} runs: ${r.finished} finished, ${r.running} running, ${r.pending} pending, ${r.failed} failed` + (r.incomplete ? `, ${r.incomplete} incomplete` : '') + ` · ${s.directory}` }),
      el('table', { id: 'study-grid', class: 'grid' }, el('thead', {}, head), el('tbody', {}, ...rows)),
      el('p', { class: 'legend', text: 'Click a cell to chart its seeds. Final accuracy: the mean over the cell\'s finished seeds (the report\'s estimate).' }),
    ];
    if (s.report) children.push(renderReport(s.report));
    else children.push(el('p', { id: 'report-missing', text: 'The report\'s tables and heatmaps appear here once the report is written (at the end of the sweep, or with dstar report DIR).' }));
    panel.replaceChildren(...children);
  }

  function renderReport(report) {
    const section = el('section', { id: 'report' }, el('h3', { text: `Report (target accuracy ${pct(report.target_accuracy)})` }));
    for (const t of report.tables || []) {
      const scenario = Object.entries(t.scenario || {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'all cells';
      const head = el('tr', {}, el('th', { text: 'rule' }), ...t.attacks.map(a => el('th', { text: a })), el('th', { text: 'worst case' }));
      const rows = t.rows.map(row => el('tr', { 'data-rule': row.rule },
        el('td', { text: row.rule + (row.tune_value ? ` (${row.tune_value})` : '') }),
        ...t.attacks.map(a => { const v = row.final_accuracy_mean[a]; const td = el('td', { text: pct(v) }); if (v !== null && v !== undefined) td.style.background = heat(v); return td; }),
        (() => { const td = el('td', { class: 'worst', text: pct(row.worst_case) + (row.missing_attacks ? ` (${row.missing_attacks} missing)` : '') }); if (row.worst_case !== null) td.style.background = heat(row.worst_case); return td; })()));
      section.append(el('table', { class: 'report-table' }, el('caption', { text: `Mean final accuracy, rule × attack — ${scenario}` }), el('thead', {}, head), el('tbody', {}, ...rows)));
    }
    if ((report.tuning || []).length > 0) {
      section.append(el('p', { class: 'legend', text: 'Tuning: ' + report.tuning.map(t => `${t.rule}: ${t.chosen}`).join('; ') }));
    }
    const images = el('div', { class: 'report-images' }, ...report.images.map(i => el('figure', {}, el('img', { src: i.url, alt: i.name, loading: 'lazy' }), el('figcaption', { text: i.name }))));
    section.append(images, el('p', { class: 'legend', text: 'The whole report: ' + report.html }));
    return section;
  }

  function renderCluster() {
    const panel = document.getElementById('cluster');
    if (!cluster) { panel.hidden = true; return; }
    panel.hidden = false;
    const c = cluster;
    const age = w => {
      if (w.seconds_since_seen === null) return '–';
      const a = w.seconds_since_seen + (connection === 'live' ? (Date.now() - clusterFetched) / 1000 : 0);
      return (a < 10 ? a.toFixed(1) : a < 120 ? a.toFixed(0) : (a / 60).toFixed(0) + ' min') + (a < 120 ? ' s ago' : ' ago');
    };
    const workers = el('table', { id: 'cluster-workers' },
      el('thead', {}, el('tr', {}, ...['worker', 'connection', 'last seen', 'peer', 'sessions', 'gradients'].map(h => el('th', { text: h })))),
      el('tbody', {}, ...c.workers.map(w => el('tr', { 'data-worker': String(w.worker) },
        el('td', { text: String(w.worker) }),
        el('td', { class: 'conn-state conn-' + w.state, text: w.state === 'never' ? 'never connected' : w.state }),
        el('td', { text: age(w) }),
        el('td', { text: w.peer || '' }),
        el('td', { text: String(w.joins) }),
        el('td', { text: String(w.gradients) })))));
    const counts = (title, id, map) => el('table', { id, class: 'refusals' },
      el('caption', { text: title }),
      el('thead', {}, el('tr', {}, el('th', { text: 'reason' }), el('th', { text: 'count' }))),
      el('tbody', {}, ...(Object.keys(map).length === 0 ? [el('tr', {}, el('td', { text: 'none' }), el('td', { text: '0' }))]
        : Object.entries(map).map(([reason, n]) => el('tr', { 'data-reason': reason }, el('td', { text: reason }), el('td', { class: 'count', text: String(n) }))))));
    const recent = el('ul', { id: 'recent-refusals' }, ...c.recent_refusals.map(r => el('li', {
      text: `${r.time.slice(11, 19)} UTC · ${r.kind} refused: ${r.reason}` + (r.worker !== null ? ` (worker ${r.worker})` : '') + (r.peer ? ` from ${r.peer}` : ''),
    })));
    panel.replaceChildren(
      el('h2', { text: 'Cluster' }),
      el('p', { class: 'study-line', text: `${c.connected} of ${c.workers.length} workers connected` }),
      el('div', { class: 'cluster-tables' }, workers, el('div', {},
        counts('Connections refused, by reason', 'join-refusals', c.join_refusals),
        counts('Gradients refused, by reason', 'gradient-refusals', c.gradient_refusals),
        el('h3', { text: 'Latest refusals' }),
        c.recent_refusals.length ? recent : el('p', { text: 'none' }))));
  }

  function renderRuns() {
    const body = document.querySelector('#runs tbody');
    body.replaceChildren(...[...runs.values()].map((run, i) => {
      const l = run.line;
      const row = el('tr', { 'data-run': String(l.id), class: l.id === selected ? 'selected' : '', onclick: () => { selected = l.id; chartKey = ''; fillCharted(); changed(); } },
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
    const all = [...runs.values()];
    const list = all.filter(charted);
    const key = xAxis + '|' + list.map(r => r.line.id + ':' + r.line.name).join(',');
    const holder = document.getElementById('charts');
    const note = document.getElementById('charted');
    note.textContent = list.length < all.length ? `Charts show ${list.length} of ${all.length} runs: the selected run and its cell's seeds (click a run or a cell).` : '';
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
          height: 240,
          scales: { x: { time: false }, y: spec.log ? { distr: 3 } : {} },
          axes: [{ label: X_AXES[xAxis].label }, { size: 64, values: (u, ticks) => ticks.map(tick) }],
          series: [{ label: X_AXES[xAxis].label }, ...list.map(run => ({
            label: shorten(run.line.name),
            stroke: COLORS[all.indexOf(run) % COLORS.length],
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

  // Legend labels stay on one line: a study run's name keeps its start and its end (the attack and the seed).
  const shorten = name => (name.length <= 48 ? name : name.slice(0, 18) + '…' + name.slice(-29));

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
      run.rounds.forEach((r, i) => {
        const y = spec.of(r, i > 0 ? run.rounds[i - 1] : null);
        const at = x(r);
        if (y === null || y === undefined || !Number.isFinite(y) || !Number.isFinite(at)) return;
        if (xs.length > 0 && at <= xs[xs.length - 1]) return;
        xs.push(at);
        ys.push(y);
      });
      return [xs, ys];
    });
    if (tables.length === 0 || tables.every(t => t[0].length === 0)) return [[], ...tables.map(() => [])];
    return uPlot.join(tables);
  }

  // The parts of a round's wall time that the row carries: the view's measured "phases", a "breakdown" object, and
  // any top-level number named *_seconds or *_s (the cluster's metrics columns). Whatever a host records shows up,
  // with no list kept here — except wait_s, the whole wait for the k-th gradient, which compute_s, delay_s and wire_s
  // divide: stacked beside them it would count that time twice.
  function phasesOf(r) {
    const parts = {};
    for (const [k, v] of Object.entries(r)) {
      if (typeof v !== 'number' || k === 'wait_s') continue;
      const suffix = ['_seconds', '_s'].find(s => k.endsWith(s));
      if (suffix) parts[k.slice(0, -suffix.length)] = v;
    }
    for (const group of [r.breakdown, r.phases]) {
      if (group && typeof group === 'object') {
        for (const [k, v] of Object.entries(group)) if (typeof v === 'number') parts[k.endsWith('_seconds') ? k.slice(0, -'_seconds'.length) : k] = v;
      }
    }
    return parts;
  }

  function renderPhases(run) {
    const recent = run.rounds.slice(-STRIP_ROUNDS);
    const names = [];
    const totals = {};
    for (const r of run.rounds) {
      for (const [k, v] of Object.entries(phasesOf(r))) {
        if (!(k in totals)) { names.push(k); totals[k] = 0; }
        if (Number.isFinite(v)) totals[k] += v;
      }
    }
    const section = el('section', { id: 'phases' });
    const mean = run.rounds.length ? run.rounds.reduce((n, r) => n + (Number.isFinite(r.round_time) ? r.round_time : 0), 0) / run.rounds.length : null;
    section.append(el('h3', { text: 'Round time and where it goes' }),
      el('p', { class: 'legend', text: `mean round time ${seconds(mean)} on the transport clock (virtual in simulation); charts above: per round, against the x axis chosen.` }));
    if (phaseChart) { phaseChart.destroy(); phaseChart = null; }
    if (names.length === 0) {
      section.append(el('p', { id: 'phases-missing', text: 'This run\'s rounds carry no breakdown of their time (the simulator\'s phases are measured while it runs with --view; a row\'s *_seconds fields or breakdown object are shown when present).' }));
      return section;
    }
    const sum = names.reduce((n, k) => n + totals[k], 0);
    section.append(el('table', { id: 'phase-totals' },
      el('thead', {}, el('tr', {}, ...['part', 'total', 'mean per round', 'share'].map(h => el('th', { text: h })))),
      el('tbody', {}, ...names.map((k, i) => el('tr', { 'data-phase': k },
        el('td', {}, el('span', { class: 'swatch', color: COLORS[i % COLORS.length] }), k.replaceAll('_', ' ')),
        el('td', { text: seconds(totals[k]) }),
        el('td', { text: seconds(totals[k] / run.rounds.length) }),
        el('td', { text: sum > 0 ? pct(totals[k] / sum) : '–' }))))));
    // Stacked bars of the last rounds: series drawn from the whole stack down to the first part, each covering the
    // lower part of the one before; the legend shows each part's own seconds.
    const xs = recent.map(r => r.round + 1);
    const parts = names.map(k => recent.map(r => { const v = phasesOf(r)[k]; return Number.isFinite(v) ? v : 0; }));
    const stacks = parts.map((_, j) => recent.map((_, i) => parts.slice(0, j + 1).reduce((n, p) => n + p[i], 0)));
    const order = names.map((_, j) => names.length - 1 - j);
    const box = el('div', { class: 'chart', 'data-chart': 'phases' });
    section.append(box);
    // The run panel is rebuilt on each render, and the chart with it.
    phaseChart = new uPlot({
      title: `wall seconds per round by part, last ${recent.length} rounds`,
      width: Math.max(320, Math.min(900, (document.getElementById('charts').clientWidth || 900) - 24)),
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'round' }, { size: 64, values: (u, ticks) => ticks.map(tick) }],
      series: [{ label: 'round' }, ...order.map(j => ({
        label: names[j].replaceAll('_', ' '),
        fill: COLORS[j % COLORS.length],
        stroke: COLORS[j % COLORS.length],
        width: 0,
        paths: uPlot.paths.bars({ size: [0.9, 12] }),
        points: { show: false },
        value: (u, v, si, i) => (i === null || i === undefined ? '–' : seconds(parts[j][i])),
      }))],
    }, [xs, ...order.map(j => stacks[j])], box);
    return section;
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
      renderPhases(run),
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
      el('section', { id: 'study', hidden: '' }),
      el('section', { id: 'cluster', hidden: '' }),
      el('h2', { text: 'Runs' }),
      el('table', { id: 'runs', class: 'runs' },
        el('thead', {}, el('tr', {}, ...['run', 'state', 'round', 'accuracy', 'validation loss', 'virtual time (s)', 'wall time (s)', 'Byzantine kept'].map(h => el('th', { text: h })))),
        el('tbody')),
      el('p', { id: 'x-axis' }, 'x axis: ', ...buttons),
      el('p', { id: 'charted', class: 'legend' }),
      el('div', { id: 'charts' }),
      el('section', { id: 'run' }));
    window.addEventListener('resize', () => { chartKey = ''; changed(); });
  }

  // For scripts and tests: how the page reads a round row's time breakdown.
  window.dstarView = Object.freeze({ phasesOf });

  build();
  reload();
  connect();
})();
