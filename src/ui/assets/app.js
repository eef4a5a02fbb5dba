// kproxy's dashboard. Every text that comes from Kubernetes objects is put in the page with
// textContent (through h() below): nothing is ever parsed as HTML.
'use strict';

const PAGE_SIZE = 100;

/** h('td', {class: 'num'}, 'text', child, ...): an element; strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = (id) => document.getElementById(id);
const hostPort = (ip, port) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const serviceName = (r) => `${r.namespace}/${r.name}${r.portName ? ':' + r.portName : ''}`;

// ---- Services table -------------------------------------------------------------------------

const COLUMNS = [
  { id: 'service', title: 'Service', value: (r) => serviceName(r), cell: (r) => h('span', {}, serviceName(r), h('span', { class: 'na' }, ` ${r.protocol}`)) },
  { id: 'type', title: 'Type', value: (r) => r.type },
  { id: 'clusterIP', title: 'ClusterIP', value: (r) => r.clusterIP, mono: true },
  { id: 'port', title: 'Port', value: (r) => r.port, num: true },
  { id: 'nodePort', title: 'NodePort', value: (r) => r.nodePort || '', num: true },
  { id: 'external', title: 'External / LB IPs', value: (r) => [...r.externalIPs, ...r.loadBalancerIPs].join(' '), mono: true },
  { id: 'policy', title: 'Traffic policy (int / ext)', value: (r) => `${r.internalTrafficPolicy} / ${r.externalTrafficPolicy}` },
  { id: 'affinity', title: 'Affinity', value: (r) => r.affinity },
  { id: 'dns', title: 'DNS name', value: (r) => r.dnsName, mono: true },
  { id: 'ready', title: 'Ready', value: (r) => r.ready, num: true, alarm: (r) => r.ready === 0 },
  { id: 'serving', title: 'Serving', value: (r) => r.serving, num: true },
  { id: 'terminating', title: 'Terminating', value: (r) => r.terminating, num: true },
  { id: 'local', title: 'Local', value: (r) => r.local, num: true },
  { id: 'remote', title: 'Remote', value: (r) => r.remote, num: true },
];

const view = { rows: new Map(), filter: '', sort: 'service', desc: false, page: 0, selected: null, scheduled: false, list: null };

/** What the filter box searches in a row, computed once per row version. */
const searchText = new WeakMap();
function haystack(r) {
  let s = searchText.get(r);
  if (s === undefined) searchText.set(r, (s = COLUMNS.map((c) => String(c.value(r))).join('\u0000').toLowerCase()));
  return s;
}

// Plain comparisons, not localeCompare: sorting 10,000 rows must stay well under a frame.
const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);

/** The filtered, sorted rows; kept until the rows, the filter or the order change. */
function visibleRows() {
  if (view.list) return view.list;
  const col = COLUMNS.find((c) => c.id === view.sort);
  const f = view.filter.toLowerCase();
  let list = [...view.rows.values()];
  if (f) list = list.filter((r) => haystack(r).includes(f));
  const keyed = list.map((r) => [col.value(r), r]);
  keyed.sort((a, b) => (view.desc ? -cmp(a[0], b[0]) : cmp(a[0], b[0])) || cmp(a[1].key, b[1].key));
  return (view.list = keyed.map((k) => k[1]));
}

function renderHead() {
  $('head').replaceChildren(
    ...COLUMNS.map((c) =>
      h('th', {
        'data-col': c.id,
        class: view.sort === c.id ? `sorted${view.desc ? ' desc' : ''}` : null,
        onclick: () => {
          view.desc = view.sort === c.id ? !view.desc : false;
          view.sort = c.id;
          view.list = null;
          renderHead();
          schedule();
        },
      }, c.title),
    ),
  );
}

function renderRows() {
  const t0 = performance.now();
  view.scheduled = false;
  const list = visibleRows();
  const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
  view.page = Math.min(view.page, pages - 1);
  const slice = list.slice(view.page * PAGE_SIZE, (view.page + 1) * PAGE_SIZE);
  $('rows').replaceChildren(
    ...slice.map((r) =>
      h('tr', { 'data-key': r.key, class: r.key === view.selected ? 'selected' : null, onclick: () => select(r.key) },
        COLUMNS.map((c) => h('td', { 'data-col': c.id, class: [c.num ? 'num' : '', c.mono ? 'mono' : '', c.alarm && c.alarm(r) ? 'zero' : ''].join(' ').trim() || null }, c.cell ? c.cell(r) : String(c.value(r))))),
    ),
  );
  $('count').textContent = `${list.length} of ${view.rows.size} service ports`;
  $('page').textContent = `page ${view.page + 1} of ${pages}`;
  $('prev').disabled = view.page === 0;
  $('next').disabled = view.page >= pages - 1;
  performance.measure('kproxy:render', { start: t0 });
}

/** Renders once per frame however many events arrive. */
function schedule() {
  if (view.scheduled) return;
  view.scheduled = true;
  requestAnimationFrame(renderRows);
}

// ---- a service port's detail ------------------------------------------------------------------

const mark = (v) => (v === null ? h('span', { class: 'na', title: 'not used for this port' }, '–') : v ? h('span', { class: 'yes' }, 'yes') : h('span', { class: 'no' }, 'no'));

async function select(key) {
  view.selected = key;
  schedule();
  await loadDetail();
}

async function loadDetail() {
  const key = view.selected;
  if (!key) return;
  const res = await fetch(`api/service?key=${encodeURIComponent(key)}`);
  if (view.selected !== key) return;
  const box = $('detail');
  box.hidden = false;
  if (!res.ok) {
    box.replaceChildren(h('p', { class: 'error' }, (await res.json()).error));
    return;
  }
  const d = await res.json();
  const r = d.row;
  box.replaceChildren(
    h('button', { class: 'close', type: 'button', onclick: () => { view.selected = null; box.hidden = true; schedule(); } }, 'close'),
    h('h2', {}, `${serviceName(r)} (${r.protocol}, ${r.family})`),
    h('p', {}, `${r.type} · ClusterIP ${hostPort(r.clusterIP || '-', r.port)}`, r.nodePort ? ` · NodePort ${r.nodePort}` : '', ` · ${r.dnsName} · node ${d.node.name}${d.node.zone ? `, zone ${d.node.zone}` : ''} `,
      h('button', { type: 'button', onclick: () => prefillTrace(r) }, 'trace to this Service')),
    h('h3', {}, 'Traffic'),
    h('table', { id: 'traffic' }, h('tr', {}, h('th', {}, 'traffic'), h('th', {}, 'policy'), h('th', {}, 'endpoint set'), h('th', {}, 'endpoints'), h('th', {}, "the model's decisions")),
      d.traffic.map((t) => h('tr', {}, h('td', {}, t.what), h('td', {}, t.policy), h('td', {}, t.set), h('td', { class: 'num' }, t.endpoints), h('td', {}, t.decisions.map((x) => h('div', {}, x)))))),
    h('h3', {}, `Endpoints (${d.endpoints.length})`),
    d.endpoints.length === 0
      ? h('p', { class: 'na' }, 'no endpoints')
      : h('table', { id: 'endpoints' },
          h('tr', {}, ['endpoint', 'node', 'zone', 'hostname', 'cluster set', 'local set', 'ClusterIP traffic', 'external traffic', 'short-circuit', 'facts the model used'].map((t) => h('th', {}, t))),
          d.endpoints.map((e) => h('tr', { 'data-endpoint': e.endpoint },
            h('td', { class: 'mono' }, e.endpoint), h('td', {}, e.nodeName), h('td', {}, e.zone), h('td', {}, e.hostname),
            h('td', {}, mark(e.sets.cluster)), h('td', {}, mark(e.sets.local)), h('td', {}, mark(e.sets.internal)), h('td', {}, mark(e.sets.external)), h('td', {}, mark(e.sets.shortCircuit)),
            h('td', {}, e.facts.join('; '))))),
    h('h3', {}, `Rules: ${d.rules.kind}`),
    h('pre', { id: 'rules' }, d.rules.lines.join('\n') || '(none)'),
    h('h3', {}, 'DNS records'),
    h('pre', { id: 'dns' }, d.dns.join('\n') || '(none)'),
  );
}

// ---- trace -------------------------------------------------------------------------------------

function prefillTrace(r) {
  const f = $('trace-form');
  f.dst.value = r.clusterIP;
  f.dport.value = r.port;
  f.protocol.value = r.protocol.toLowerCase();
  f.src.focus();
}

async function runTrace(ev) {
  ev.preventDefault();
  const f = ev.target;
  const q = new URLSearchParams({ src: f.src.value.trim(), dst: f.dst.value.trim(), dport: f.dport.value.trim(), protocol: f.protocol.value });
  const out = $('trace-result');
  out.replaceChildren(h('p', { class: 'na' }, 'tracing…'));
  const res = await fetch(`api/trace?${q}`);
  const t = await res.json();
  if (!res.ok || t.error) {
    out.replaceChildren(h('p', { class: 'error', id: 'trace-error' }, t.error || `HTTP ${res.status}`));
    return;
  }
  out.replaceChildren(
    h('p', {}, 'Verdict: ', h('span', { class: 'verdict', id: 'trace-verdict' }, t.verdict), t.verdict === 'DNAT' ? ` · masqueraded: ${t.masquerade ? 'yes' : 'no'}` : ''),
    t.endpoints.length
      ? h('table', { id: 'trace-endpoints' }, h('tr', {}, h('th', {}, 'endpoint'), h('th', {}, 'probability')),
          t.endpoints.map((e) => h('tr', {}, h('td', { class: 'mono' }, hostPort(e.ip, e.port)), h('td', { class: 'num' }, `${(e.probability * 100).toFixed(2)} %`))))
      : null,
    h('p', { class: 'na' }, `Ruleset: ${t.ruleset}`),
    h('pre', { id: 'trace-story' }, t.story),
  );
}

// ---- health ------------------------------------------------------------------------------------

const charts = {};

function chart(id, title, unit) {
  const el = $(id);
  const width = Math.max(300, el.clientWidth || 500);
  return new uPlot(
    {
      title,
      width,
      height: 160,
      series: [{}, { label: unit, stroke: '#2457c5', width: 1.5, points: { show: true, size: 4 }, value: (u, v) => (v === null ? '–' : v.toFixed(3)) }],
      axes: [{}, { size: 60 }],
      // always the last hour, however few points there are yet
      scales: { x: { time: true, range: () => { const now = Date.now() / 1000; return [now - 3600, now]; } } },
    },
    [[], []],
    el,
  );
}

function renderCharts(points) {
  const t = points.map((p) => p.t);
  charts.sync.setData([t, points.map((p) => (p.syncMean === null ? null : p.syncMean * 1000))]);
  charts.programming.setData([t, points.map((p) => p.programmingMean)]);
}

function renderStatus(s) {
  const dl = $('status');
  document.body.dataset.statusGeneration = s.generation;
  const last = s.lastSync;
  const hz = s.healthz;
  dl.replaceChildren(
    h('dt', {}, 'last sync'), h('dd', { id: 'last-sync' }, last ? `${new Date(last.at).toLocaleTimeString()} · ${last.kind}${last.seconds !== null ? ` · ${(last.seconds * 1000).toFixed(1)} ms` : ''} · generation ${s.generation}` : 'none yet'),
    h('dt', {}, 'sync failures'), h('dd', { class: s.syncFailures ? 'no' : null }, String(s.syncFailures)),
    h('dt', {}, '/healthz'), h('dd', { id: 'healthz', class: hz ? (hz.healthy ? 'yes' : 'no') : 'na' }, hz ? (hz.healthy ? 'healthy' : 'unhealthy') + (hz.lastUpdated ? ` (last updated ${new Date(hz.lastUpdated).toLocaleTimeString()})` : '') : 'not known'),
  );
  $('invalid').replaceChildren(...(s.invalidObjects.length ? s.invalidObjects.map((e) => h('li', { class: 'mono' }, e.text)) : [h('li', { class: 'na' }, 'none')]));
}

// ---- the live stream ---------------------------------------------------------------------------

let points = [];
/** Rows travel as arrays of values in the order the reset event names. */
let fields = [];
const unpack = (a) => Object.fromEntries(fields.map((f, i) => [f, a[i]]));

function connect() {
  const es = new EventSource('events');
  const live = $('live');
  es.addEventListener('open', () => { live.textContent = 'live'; live.className = 'on'; });
  es.addEventListener('error', () => { live.textContent = 'disconnected, retrying…'; live.className = 'off'; });
  es.addEventListener('reset', (m) => {
    const t0 = performance.now();
    const d = JSON.parse(m.data);
    performance.measure('kproxy:reset-parse', { start: t0 });
    fields = d.fields;
    view.rows = new Map(d.rows.map((a) => { const r = unpack(a); return [r.key, r]; }));
    view.list = null;
    $('where').textContent = `node ${d.node || '?'} · ${d.mode} mode · generation ${d.generation}`;
    renderStatus(d.status);
    points = d.points;
    renderCharts(points);
    schedule();
    document.body.dataset.generation = d.generation;
  });
  es.addEventListener('patch', (m) => {
    const d = JSON.parse(m.data);
    for (const k of d.remove) view.rows.delete(k);
    const upsert = d.upsert.map(unpack);
    for (const r of upsert) view.rows.set(r.key, r);
    view.list = null;
    $('where').textContent = $('where').textContent.replace(/generation \d+/, `generation ${d.generation}`);
    document.body.dataset.generation = d.generation;
    document.body.dataset.patchAt = d.at;
    schedule();
    if (view.selected && (upsert.some((r) => r.key === view.selected) || d.remove.includes(view.selected))) loadDetail();
  });
  es.addEventListener('status', (m) => renderStatus(JSON.parse(m.data)));
  es.addEventListener('point', (m) => {
    points.push(JSON.parse(m.data));
    if (points.length > 720) points.shift();
    renderCharts(points);
  });
}

function start() {
  charts.sync = chart('chart-sync', 'Sync duration (mean per 5 s)', 'ms');
  charts.programming = chart('chart-programming', 'Network programming latency (mean per 5 s)', 's');
  renderHead();
  $('filter').addEventListener('input', (e) => { view.filter = e.target.value; view.page = 0; view.list = null; schedule(); });
  $('prev').addEventListener('click', () => { view.page--; schedule(); });
  $('next').addEventListener('click', () => { view.page++; schedule(); });
  $('trace-form').addEventListener('submit', runTrace);
  connect();
}

start();
