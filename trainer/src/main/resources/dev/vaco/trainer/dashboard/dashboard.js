'use strict';
// The run dashboard: every run's metrics.jsonl lines arrive over server-sent events (/api/runs/RUN/events) and are
// drawn with uPlot (bundled in the jar). Several runs are overlaid, one colour per run; one run gets a colour per series.
(function () {
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  const DASHES = [undefined, [6, 4], [2, 3], [10, 3, 2, 3]];

  // Each chart: its title, its axes' labels with units, and its series: a metrics.jsonl key (times `scale`), or a value
  // derived per step (DERIVED). `right`: the series uses the right-hand axis. `band`: [upper, lower] series to shade.
  const CHARTS = [
    { id: 'accuracy', title: 'Held-out accuracy (greedy) with its 95% interval', y: 'accuracy (%)', source: 'eval', band: [2, 1],
      series: [{ key: 'eval/accuracy', label: 'accuracy', scale: 100 }, { key: 'eval/ci_low', label: 'interval low', scale: 100, thin: true },
               { key: 'eval/ci_high', label: 'interval high', scale: 100, thin: true }] },
    { id: 'reward', title: 'Training reward', y: 'reward (0-1)',
      series: [{ key: 'reward/mean', label: 'reward' }, { key: 'reward/accuracy', label: 'correct share', thin: true }] },
    { id: 'lag', title: 'Token lag', y: 'lag (policy versions)',
      series: [{ key: 'lag/mean', label: 'mean lag' }, { key: 'lag/p95', label: 'p95 lag', thin: true }] },
    { id: 'lagHist', kind: 'hist', title: 'Lag histogram (every step so far)', x: 'lag (policy versions)', y: 'share of tokens (%)' },
    { id: 'tv', title: 'TV distance to the behaviour policy', y: 'total variation (0-1)',
      series: [{ key: 'lag/tv', label: 'TV(learner, behaviour)' }] },
    { id: 'shares', title: 'Filtered / clipped share', y: 'share of tokens (%)',
      series: [{ key: 'vaco/filtered_frac', label: 'filtered (VACO)', scale: 100 }, { key: 'ppo/clip_frac', label: 'clipped (PPO)', scale: 100 },
               { key: 'is/truncated_frac', label: 'IS weight truncated', scale: 100, thin: true }] },
    { id: 'ess', title: 'Effective sample size', y: 'ESS / tokens (0-1)', series: [{ key: 'is/ess', label: 'normalised ESS' }] },
    { id: 'mismatch', title: 'Inference/trainer mismatch and canary', y: 'mismatch KL (nats)', y2: 'canary |Δ log p| (nats)',
      series: [{ key: 'mismatch/kl_k3', label: 'mismatch KL (k3, lag-0 tokens)' }, { key: 'sync/canary_max_abs', label: 'canary max |Δ log p|', right: true }] },
    { id: 'ckl', title: 'Consecutive-policy KL', y: 'KL (nats)', series: [{ key: 'policy/consecutive_kl', label: 'KL(π before step ‖ π after)' }] },
    { id: 'tps', title: 'Throughput', y: 'tokens / s',
      series: [{ derive: 'genTps', label: 'generation (servers)' }, { derive: 'learnTps', label: 'learning (learner step)' }] },
    { id: 'admission', title: 'Admission', y: 'groups',
      series: [{ key: 'pipeline/in_flight_groups', label: 'in flight' }, { key: 'pipeline/ready_groups', label: 'ready' },
               { derive: 'bound', label: 'staleness bound (η+1)·B', thin: true }] },
    { id: 'servers', title: 'Servers', y: 'servers in rotation', series: [{ key: 'pipeline/healthy_servers', label: 'healthy servers' }] },
  ];

  const DERIVED = {
    // tokens the servers sampled between two steps, over the wall time between them
    genTps(r, i) {
      if (i === 0) return null;
      const dt = r.elapsed[i] - r.elapsed[i - 1];
      const dn = r.steps[i]['pipeline/generated_tokens'] - r.steps[i - 1]['pipeline/generated_tokens'];
      return dt > 0 && dn >= 0 ? dn / dt : null;
    },
    // tokens trained over the learner step's time (older runs: the step's time less its wait for groups)
    learnTps(r, i) {
      const l = r.steps[i];
      const t = l['learner/step_s'] != null ? l['learner/step_s'] : l.time_s - (l['pipeline/wait_s'] || 0);
      return t > 0 && l['train/tokens'] != null ? l['train/tokens'] / t : null;
    },
    // admitted, untrained groups never exceed (eta + 1) * B
    bound(r) {
      const c = r.info;
      return c.prompts_per_step ? (Math.max(c.max_staleness || 0, c.lag || 0) + 1) * c.prompts_per_step : null;
    },
  };

  const runs = [];
  const charts = [];
  const plottedAt = {};
  let built = false;
  let pending = null;

  function fmt(v) {
    if (v == null || Number.isNaN(v)) return '–';
    if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(1);
    return String(+v.toPrecision(4));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  /** One metrics.jsonl line: a step line, or an evaluation line; a resumed run's repeated steps replace the old ones. */
  function ingest(r, line) {
    if (line['eval/accuracy'] != null) {
      while (r.evals.length && r.evals[r.evals.length - 1].step >= line.step) r.evals.pop();
      r.evals.push(line);
      return;
    }
    while (r.steps.length && r.steps[r.steps.length - 1].step >= line.step) {
      r.steps.pop();
      r.elapsed.pop();
    }
    const prev = r.elapsed.length ? r.elapsed[r.elapsed.length - 1] : 0;
    r.elapsed.push(line['pipeline/elapsed_s'] != null ? line['pipeline/elapsed_s'] : prev + (line.time_s || 0));
    r.steps.push(line);
    for (const k in line) {
      if (k.startsWith('lag/tokens_') && line[k] != null) {
        const lag = +k.slice('lag/tokens_'.length);
        r.lagTokens[lag] = (r.lagTokens[lag] || 0) + line[k];
      }
    }
  }

  function value(r, s, i, src) {
    if (s.derive) return DERIVED[s.derive](r, i);
    const v = src[i][s.key];
    return v == null ? null : (s.scale || 1) * v;
  }

  /** uPlot's aligned data: x (steps) then, run by run, each series; runs are joined on their steps. */
  function lineData(def) {
    const tables = runs.map(r => {
      const src = def.source === 'eval' ? r.evals : r.steps;
      return [src.map(l => l.step), ...def.series.map(s => src.map((l, i) => value(r, s, i, src)))];
    });
    if (tables.length === 1) return tables[0];
    const nonEmpty = tables.map(t => t[0].length > 0);
    if (!nonEmpty.some(Boolean)) return [[], ...tables.flatMap(t => t.slice(1))];
    // uPlot.join needs every table non-empty: an empty run gets one all-null row at the first step seen
    const x0 = tables.find(t => t[0].length)[0][0];
    const filled = tables.map(t => t[0].length ? t : [[x0], ...t.slice(1).map(() => [null])]);
    return uPlot.join(filled);
  }

  /** The lag histogram: share of each run's tokens (every step so far) at each lag. */
  function histData() {
    let max = 0;
    runs.forEach(r => r.lagTokens.forEach((n, k) => { if (n) max = Math.max(max, k); }));
    const xs = Array.from({ length: max + 1 }, (_, k) => k);
    return [xs, ...runs.map(r => {
      const total = r.lagTokens.reduce((a, b) => a + (b || 0), 0);
      return xs.map(k => total ? 100 * (r.lagTokens[k] || 0) / total : null);
    })];
  }

  function seriesOf(def) {
    const out = [{ label: def.x || 'learner step' }];
    if (def.kind === 'hist') {
      runs.forEach((r, ri) => out.push({
        label: runs.length > 1 ? r.id : 'tokens', stroke: r.color, fill: r.color + '55', width: 1, value: (u, v) => fmt(v),
        paths: uPlot.paths.bars({ size: [0.8 / runs.length, 60] }),
        points: { show: false },
      }));
      return out;
    }
    runs.forEach(r => def.series.forEach((s, si) => out.push({
      label: (runs.length > 1 ? r.id + ' · ' : '') + s.label,
      stroke: runs.length > 1 ? r.color : PALETTE[si % PALETTE.length],
      dash: runs.length > 1 ? DASHES[si % DASHES.length] : (s.thin ? [5, 4] : undefined),
      width: s.thin ? 1 : 1.8,
      scale: s.right ? 'y2' : 'y',
      spanGaps: true,
      points: { show: def.source === 'eval' },
      value: (u, v) => fmt(v),
    })));
    return out;
  }

  function build() {
    const root = document.getElementById('charts');
    for (const def of CHARTS) {
      const box = el('div', 'chart');
      box.id = 'chart-' + def.id;
      box.appendChild(el('h2', null, def.title));
      const note = el('p', 'note', 'waiting for the first ' + (def.source === 'eval' ? 'evaluation' : 'learner step') + '…');
      box.appendChild(note);
      root.appendChild(box);
      const axes = [{ label: def.x || 'learner step' }, { label: def.y, values: (u, t) => t.map(fmt), size: 60 }];
      // no value yet (all null) or only zeros: 0..1 (0..100 for percentages); values equal to 7 digits (ESS ~1 +- 1e-8): +-5% around them, as uPlot's ticks
      // over a span of 1e-8 at magnitude 1 would be more than an array holds
      const range = (u, min, max) => {
        const empty = def.series && def.series.some(s => s.scale === 100) ? [0, 100] : [0, 1];
        if (min == null || max == null) return empty;
        const mag = Math.max(Math.abs(min), Math.abs(max));
        if (mag === 0) return empty;
        if (max - min < 1e-6 * mag) return [min - 0.05 * mag, max + 0.05 * mag];
        return uPlot.rangeNum(min, max, 0.1, true);
      };
      const scales = { x: { time: false }, y: { range } };
      if (def.y2) {
        axes.push({ label: def.y2, scale: 'y2', side: 1, values: (u, t) => t.map(fmt), grid: { show: false }, size: 60 });
        scales.y2 = { range };
      }
      if (def.kind === 'hist') {
        scales.x = { time: false, range: (u, min, max) => min == null ? [-0.5, 1.5] : [min - 0.5, max + 0.5] };
        axes[0].incrs = [1, 2, 5, 10];
        axes[0].values = (u, t) => t.map(v => Number.isInteger(v) ? String(v) : '');
      }
      const bands = [];
      if (def.band) runs.forEach((r, ri) => {
        const base = 1 + ri * def.series.length;
        bands.push({ series: [base + def.band[0], base + def.band[1]], fill: (runs.length > 1 ? r.color : PALETTE[0]) + '22' });
      });
      const opts = { width: Math.max(300, box.clientWidth - 12), height: 230, series: seriesOf(def), axes, scales, bands,
        legend: { live: true } };
      const data = def.kind === 'hist' ? histData() : lineData(def);
      charts.push({ def, note, u: new uPlot(opts, data, box) });
    }
    window.addEventListener('resize', () => charts.forEach(c => c.u.setSize({
      width: Math.max(300, c.u.root.parentNode.clientWidth - 12), height: 230 })));
    built = true;
  }

  function redraw() {
    pending = null;
    for (const c of charts) {
      const data = c.def.kind === 'hist' ? histData() : lineData(c.def);
      c.u.setData(data);
      const n = data[0].length;
      c.note.textContent = n === 0 ? (c.def.kind === 'hist' ? 'no lag histogram yet (lag/tokens_k in metrics.jsonl)'
        : 'waiting for the first ' + (c.def.source === 'eval' ? 'evaluation' : 'learner step') + '…')
        : c.def.kind === 'hist' ? 'lags 0..' + data[0][n - 1] : 'steps ' + data[0][0] + '..' + data[0][n - 1];
    }
    const now = Date.now();
    runs.forEach(r => r.steps.forEach(l => {
      const k = r.id + '/' + l.step;
      if (plottedAt[k] == null) plottedAt[k] = now;
    }));
    header();
  }

  function schedule() {
    if (built && pending == null) pending = setTimeout(redraw, 50);
  }

  function header() {
    const box = document.getElementById('runs');
    box.replaceChildren();
    for (const r of runs) {
      const d = el('div', 'run');
      d.id = 'run-' + r.id;
      const sw = el('span', 'swatch');
      sw.style.background = r.color;
      d.appendChild(sw);
      d.appendChild(el('strong', null, r.id));
      const bits = [];
      if (r.info.objective) bits.push(r.info.objective);
      if (r.info.max_staleness != null) bits.push('η = ' + r.info.max_staleness + (r.info.lag ? ', injected lag ' + r.info.lag : ''));
      d.appendChild(el('span', null, bits.join(', ')));
      const last = r.steps[r.steps.length - 1];
      d.appendChild(el('span', null, last ? 'step ' + last.step + (r.info.steps ? ' of ' + r.info.steps : '') + ', v' + last.version : 'no step yet'));
      const ev = r.evals[r.evals.length - 1];
      if (ev) d.appendChild(el('span', null, 'held-out ' + (100 * ev['eval/accuracy']).toFixed(1) + '%'));
      const phase = r.status ? r.status.phase : (r.info.live ? 'starting' : 'finished');
      d.appendChild(el('span', 'phase' + (r.info.live && phase !== 'finished' ? ' live' : ''), phase));
      box.appendChild(d);
    }
    status();
  }

  /** The live run's pipeline: admission and the servers with their versions. */
  function status() {
    const r = runs.find(x => x.status && x.status.servers);
    const adm = document.getElementById('admission');
    const table = document.getElementById('servers');
    if (!r) {
      adm.textContent = runs.some(x => x.info.live) ? 'waiting for the rollout pipeline (warm start)…' : '';
      table.hidden = true;
      return;
    }
    const s = r.status;
    const bound = (s.max_staleness + 1) * s.prompts_per_step;
    adm.textContent = 'admission: ' + s.in_flight_groups + ' groups in flight, ' + s.ready_groups + ' ready; '
      + s.admitted_groups + ' admitted of ' + s.admission_limit + ' allowed now (staleness bound η = ' + s.max_staleness
      + ': at most ' + bound + ' groups ahead of the learner); live version v' + s.live_version;
    const body = table.querySelector('tbody');
    body.replaceChildren();
    for (const srv of s.servers) {
      const tr = el('tr');
      tr.appendChild(el('td', null, srv.url));
      tr.appendChild(el('td', srv.healthy ? null : 'down', srv.healthy ? 'in rotation' : 'down'));
      tr.appendChild(el('td', null, srv.version >= 0 ? 'v' + srv.version : '–'));
      tr.appendChild(el('td', null, srv.staged_version >= 0 ? 'v' + srv.staged_version : '–'));
      tr.appendChild(el('td', null, String(srv.in_flight)));
      body.appendChild(tr);
    }
    table.hidden = false;
  }

  function follow(r) {
    const es = new EventSource('/api/runs/' + encodeURIComponent(r.id) + '/events?from=0');
    es.addEventListener('line', e => {
      const i = +e.lastEventId;
      if (i < r.received) return; // a reconnect sends from Last-Event-ID + 1; never count a line twice
      r.received = i + 1;
      ingest(r, JSON.parse(e.data));
      schedule();
    });
    es.addEventListener('status', e => {
      r.status = JSON.parse(e.data);
      if (r.status.phase === 'finished') es.close(); // the trainer is about to stop serving
      schedule();
    });
  }

  async function start() {
    const resp = await fetch('/api/runs');
    const body = await resp.json();
    body.runs.forEach((info, i) => runs.push({ id: info.id, info, color: PALETTE[i % PALETTE.length], steps: [], elapsed: [],
      evals: [], lagTokens: [], status: null, received: 0 }));
    document.title = 'vaco · ' + runs.map(r => r.id).join(' vs ');
    build();
    header();
    runs.forEach(follow);
  }

  // what a test (or a person in the console) can ask the page
  window.vacoDashboard = {
    ready: () => built,
    runs: () => runs.map(r => ({ id: r.id, steps: r.steps.map(l => l.step), evals: r.evals.map(l => l.step),
      phase: r.status ? r.status.phase : null })),
    /** For each run, the steps whose value the chart draws (non-null in that run's first series). */
    plotted(chartId) {
      const c = charts.find(x => x.def.id === chartId);
      const out = {};
      const per = c.def.kind === 'hist' ? 1 : c.def.series.length;
      runs.forEach((r, ri) => {
        const ys = c.u.data[1 + ri * per] || [];
        out[r.id] = Array.from(c.u.data[0]).filter((x, j) => ys[j] != null);
      });
      return out;
    },
    plottedAt,
  };

  start();
})();
