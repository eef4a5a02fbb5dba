// The report's charts: Vega-Lite specifications rendered to SVG by Vega in Node (no browser,
// no canvas; text widths are estimated). Each chart is a pure function of the results.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { BenchResults, ModeResult } from './types.js';

type Spec = vl.TopLevelSpec;

const FONT = { font: 'Helvetica, Arial, sans-serif', labelFont: 'Helvetica, Arial, sans-serif', titleFont: 'Helvetica, Arial, sans-serif' };

/** One colour per path in every chart (Tableau 10), direct in grey. */
const PATHS = ['userspace', 'nftables', 'iptables', 'ebpf', 'ipvs', 'HAProxy', 'ipvs (guest)', 'iptables (guest)', 'kube-proxy (iptables mode)', 'direct to the Pod'];
const COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9c755f', '#9d9d9d'];
function colour(title: string, data: { path: string }[]) {
  const present = new Set(data.map((d) => d.path));
  const keep = PATHS.map((p, i) => [p, COLORS[i]] as const).filter(([p]) => present.has(p));
  return { field: 'path', type: 'nominal', title, scale: { domain: keep.map(([p]) => p), range: keep.map(([, c]) => c) }, legend: { labelLimit: 300 } };
}

/** The Services axis: log scale over exactly the sizes measured, each labelled. */
function servicesAxis(r: BenchResults) {
  const sizes = [...r.options.sizes, ...(r.options.guestSizes ?? [])];
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  return {
    field: 'services',
    type: 'quantitative',
    title: 'Services',
    scale: { type: 'log', nice: false, domain: [lo / 1.3, hi * 1.3] },
    axis: { values: [...new Set(sizes)].sort((a, b) => a - b), labelOverlap: false },
  };
}

/** Every measured size of every mode, host and guest, with the mode's label. */
function rows(r: BenchResults) {
  const label = (m: ModeResult, guest: boolean) => (guest ? `${m.mode} (guest)` : m.mode);
  const refs = r.references.filter((x) => x.sizes?.length).map((x): ModeResult => ({ mode: x.name, status: 'measured', sizes: x.sizes! }));
  const all: [ModeResult, boolean][] = [...[...r.modes, ...refs].map((m): [ModeResult, boolean] => [m, false]), ...(r.guest.modes ?? []).map((m): [ModeResult, boolean] => [m, true])];
  return all.flatMap(([m, guest]) => m.sizes.filter((s) => s.status === 'measured').map((s) => ({ ...s, mode: label(m, guest) })));
}

export function syncTimeSpec(r: BenchResults): Spec {
  const all = rows(r).flatMap((s) => [
    { path: s.mode, services: s.services, kind: 'full sync', ms: s.fullSyncMs },
    { path: s.mode, services: s.services, kind: 'partial sync (one EndpointSlice)', ms: s.partialSyncMs },
  ]);
  const data = all.filter((d) => d.ms !== undefined && d.ms > 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Sync time vs Services (10 endpoints each)', anchor: 'start' },
    data: { values: data },
    facet: { column: { field: 'kind', type: 'nominal', title: null, sort: ['full sync'] } },
    spec: {
      width: 300,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: servicesAxis(r),
        y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms (log scale)' },
        color: colour('mode', data),
        tooltip: [{ field: 'path' }, { field: 'services' }, { field: 'ms' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: FONT,
  } as Spec;
}

export function firstPacketSpec(r: BenchResults): Spec {
  const measured = rows(r).filter((s) => s.firstPacket);
  const data = measured.map((s) => ({ path: s.mode, services: s.services, us: s.firstPacket!.last.p50 }));
  // The direct connection, measured beside each mode: its median over the runs at that size.
  const sizes = [...new Set(measured.map((s) => s.services))];
  for (const n of sizes) {
    const d = measured.filter((s) => s.services === n && !s.mode.endsWith('(guest)')).map((s) => s.firstPacket!.direct.p50);
    if (d.length) data.push({ path: 'direct to the Pod', services: n, us: [...d].sort((a, b) => a - b)[Math.floor((d.length - 1) / 2)] });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'First-packet latency (TCP connect, p50) to the last Service', anchor: 'start' },
    width: 460,
    height: 280,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: servicesAxis(r),
      y: { field: 'us', type: 'quantitative', title: 'µs', scale: { zero: true } },
      color: colour('path', data),
      strokeDash: { condition: { test: "datum.path === 'direct to the Pod'", value: [4, 3] }, value: [1, 0] },
    },
    config: FONT,
  } as Spec;
}

export function cpuSpec(r: BenchResults): Spec {
  const data: { path: string; us: number }[] = [];
  for (const m of [...r.modes, ...r.references.map((x) => ({ mode: x.name, sizes: x.sizes ?? [] }))]) {
    const last = m.sizes.filter((s) => s.status === 'measured' && s.cpuPerConnectionUs).at(-1);
    if (last) data.push({ path: `${m.mode} (${last.services} Services)`, us: last.cpuPerConnectionUs!.service });
  }
  for (const ref of r.references) if (ref.traffic) data.push({ path: ref.name, us: ref.traffic.cpuPerConnectionUs.service });
  const directs = rows(r)
    .filter((s) => s.cpuPerConnectionUs && !s.mode.endsWith('(guest)'))
    .map((s) => s.cpuPerConnectionUs!.direct);
  if (directs.length) data.push({ path: 'direct to the Pod', us: [...directs].sort((a, b) => a - b)[Math.floor((directs.length - 1) / 2)] });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'CPU time per new connection (client + Pods + proxy)', anchor: 'start' },
    width: 420,
    height: { step: 26 },
    data: { values: data },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'path', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 400 } },
      x: { field: 'us', type: 'quantitative', title: 'µs of CPU per connection' },
      color: { condition: { test: "datum.path === 'direct to the Pod'", value: '#9e9e9e' }, value: '#4c78a8' },
    },
    config: FONT,
  } as Spec;
}

export async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export const CHARTS: { file: string; title: string; spec: (r: BenchResults) => Spec }[] = [
  { file: 'sync-time.svg', title: 'Sync time vs Services', spec: syncTimeSpec },
  { file: 'first-packet.svg', title: 'First-packet latency vs Services', spec: firstPacketSpec },
  { file: 'cpu-per-connection.svg', title: 'CPU per connection', spec: cpuSpec },
];
