// The bench's results as markdown: the tables `kproxy bench` prints, and the report page
// `--report DIR` writes beside its charts. Pure functions of the results.
import { CHARTS } from './charts.js';
import { ratio } from './stats.js';
import type { BenchResults, ModeResult, Reference, Traffic } from './types.js';

const num = (x: number | undefined | null, digits = 0) =>
  x === undefined || x === null || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const times = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);
/** A reference measured size by size (kube-proxy) as a row group of the mode tables. */
export const referenceModes = (refs: Reference[]): ModeResult[] =>
  refs.filter((r) => r.sizes?.length).map((r) => ({ mode: `${r.name}${r.version ? `, ${r.version}` : ''}`, status: 'measured' as const, sizes: r.sizes! }));

const table = (head: string[], body: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function syncTable(modes: ModeResult[]): string {
  const body: string[][] = [];
  for (const m of modes) {
    for (const s of m.sizes) {
      if (s.status !== 'measured') continue;
      body.push([
        s.variant ?? m.mode,
        num(s.services),
        `${num(s.fullSyncMs, s.fullSyncMs! < 10 ? 1 : 0)} ms`,
        `${num(s.fullSyncCpuMs)} ms`,
        `${num(s.partialSyncMs, 1)} ms`,
        `${num(s.partialSyncCpuMs)} ms`,
        `${num(s.rssMB)} MB`,
      ]);
    }
  }
  return table(['mode', 'Services', 'full sync', 'its CPU', 'partial sync (one EndpointSlice)', 'its CPU', 'RSS'], body);
}

const p = (s: { p50: number; p99: number }) => `${num(s.p50)} / ${num(s.p99)}`;

/** The traffic columns of one row: figures in µs, each with its ratio to direct (p50). */
function trafficCells(t: Pick<Traffic, 'firstPacket'> & Partial<Traffic>): string[] {
  const rq = t.request;
  const cpu = t.cpuPerConnectionUs;
  return [
    p(t.firstPacket.first),
    p(t.firstPacket.last),
    p(t.firstPacket.direct),
    times(ratio(t.firstPacket.last.p50, t.firstPacket.direct.p50)),
    rq ? p(rq.service) : '—',
    rq ? p(rq.direct) : '—',
    times(ratio(rq?.service.p50, rq?.direct.p50)),
    cpu ? `${num(cpu.service)} / ${num(cpu.direct)}` : '—',
    times(ratio(cpu?.service, cpu?.direct)),
  ];
}

const TRAFFIC_HEAD = [
  'first packet, first Service',
  'first packet, last Service',
  'direct',
  'last ÷ direct',
  'request, kept-alive',
  'direct',
  '÷ direct',
  'CPU per connection: path / direct',
  '÷ direct',
];

function trafficTable(modes: ModeResult[], refs: Reference[]): string {
  const body: string[][] = [];
  for (const m of modes)
    for (const s of m.sizes) if (s.status === 'measured' && s.firstPacket) body.push([s.variant ?? m.mode, num(s.services), ...trafficCells({ ...s, firstPacket: s.firstPacket })]);
  for (const r of refs) if (r.traffic) body.push([`${r.name} (reference)`, '1', ...trafficCells(r.traffic)]);
  return table(['path', 'Services', ...TRAFFIC_HEAD], body);
}

function notMeasured(modes: ModeResult[], refs: Reference[]): string[] {
  const out: string[] = [];
  for (const m of [...modes, ...referenceModes(refs)]) {
    if (m.status === 'skipped') out.push(`- **${m.mode}**: not measured: ${m.reason}`);
    for (const s of m.sizes) if (s.status !== 'measured') out.push(`- **${m.mode}** at ${num(s.services)} Services: ${s.status === 'failed' ? 'failed' : 'skipped'}: ${s.reason}`);
  }
  for (const r of refs) if (r.status !== 'measured') out.push(`- **${r.name}**: ${r.status === 'not built' ? 'not built' : 'not measured'}: ${r.reason}`);
  return out;
}

/** The tables alone, as `kproxy bench` prints them. */
export function renderTables(r: BenchResults): string {
  const withRefs = [...r.modes, ...referenceModes(r.references)];
  const parts = [
    `Sync time, CPU and memory (${r.options.endpoints} endpoints per Service; median of 3 full syncs, or 1 where a full sync takes over 5 s; median of 5 partial syncs):`,
    '',
    syncTable(withRefs),
    ...kubeProxyNotes(r.references),
    '',
    'Latency in µs, p50 / p99; CPU in µs per new connection; every ratio is to the direct connection measured in the same client run:',
    '',
    trafficTable(withRefs, r.references),
  ];
  if (r.modes.some((m) => m.mode.startsWith('iptables') && m.status !== 'skipped'))
    parts.push(
      '',
      "In the iptables modes the direct connection is not free of the ruleset: every new connection, the direct one too, walks the nat table's KUBE-SERVICES list before it reaches the Pod, so direct slows down with the number of Services too, and a ratio to it can fall below 1 there.",
    );
  const missing = notMeasured(r.modes, r.references);
  if (missing.length) parts.push('', 'Not measured:', '', ...missing);
  parts.push('', guestSection(r));
  return parts.join('\n') + '\n';
}

/** How a reference proxy's figures were read (from its own metrics), and what it left in the kernel. */
function kubeProxyNotes(refs: Reference[]): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    const measured = (ref.sizes ?? []).filter((s) => s.status === 'measured');
    if (!measured.length) continue;
    out.push(
      '',
      `${ref.name}${ref.version ? ` (\`--version\`: ${ref.version})` : ''}: its syncs are read from its own metrics (kubeproxy_sync_full_proxy_rules_duration_seconds for the first sync, kubeproxy_sync_partial_proxy_rules_duration_seconds after each EndpointSlice change, each confirmed by kubeproxy_sync_proxy_rules_last_timestamp_seconds), the Services served by a list/watch API server in the node namespace; the first sync counts once its rules are in the kernel. Its full-sync CPU is the process's from its start (start-up and the initial lists included). Rules in the kernel after the first sync: ${measured.map((s) => `${num(s.kernelRules)} at ${num(s.services)} Services`).join(', ')}.`,
      ...measured.flatMap((s) => (s.notes ?? []).map((n) => `- at ${num(s.services)} Services: ${n}`)),
    );
  }
  return out;
}

function guestSection(r: BenchResults): string {
  const g = r.guest;
  if (g.status !== 'measured') return `ipvs in the guest kernel: not measured: ${g.reason}.`;
  const modes = g.modes ?? [];
  return [
    `ipvs beside iptables (iptables-legacy; the guest kernel has no nftables) in one user-mode-Linux guest, ${g.kernel}. Its system calls are slow and it has one CPU: compare the guest's modes with each other, not with the host's.${
      modes.some((m) => m.sizes.some((s) => s.request)) ? '' : ' This guest benchmark measured no kept-alive request latency and no CPU per connection.'
    }`,
    '',
    syncTable(modes),
    '',
    trafficTable(modes, []),
    ...(notMeasured(modes, []).length ? ['', ...notMeasured(modes, [])] : []),
  ].join('\n');
}

function machineSection(r: BenchResults): string {
  const m = r.machine;
  const tools = Object.values(m.tools).join('; ');
  return [
    table(
      ['', ''],
      [
        ['run', `${r.startedAt.replace('T', ' ').slice(0, 16)} UTC, ${Math.round(r.durationS / 60)} min`],
        ['CPU', `${m.cpu}, ${m.cores} cores`],
        ['memory', `${m.memoryGB} GB`],
        ['OS, kernel', `${m.os}, ${m.kernel}`],
        ['kproxy, Node.js', `${m.kproxy}, ${m.node}`],
        ['tools', tools || '—'],
        ['load average (1 min)', `${m.load.start[0]} at the start, ${m.load.end[0]} at the end, ${m.load.min1}–${m.load.max1} during the run`],
      ],
    ),
    '',
    `With ${m.cores} cores, a load average above ${m.cores} means processes were waiting for a CPU: wall times (sync, latency) stretch with the load, so compare the modes with each other and with the direct connection measured beside them, not with other machines. CPU times stretch much less.`,
  ].join('\n');
}

/** The report page (README.md of the report folder), its charts beside it. */
export function renderReport(r: BenchResults): string {
  const charts = CHARTS.map((c) => `![${c.title}](${c.file})`).join('\n\n');
  return [
    '# kproxy benchmark: every mode side by side',
    '',
    `Written by \`kproxy bench --report\`; the raw figures are in [results.json](results.json). Sizes: ${r.options.sizes.map((s) => num(s)).join(', ')} Services × ${r.options.endpoints} endpoints.`,
    '',
    '## Machine',
    '',
    machineSection(r),
    '',
    '## Charts',
    '',
    charts,
    '',
    '## Figures',
    '',
    renderTables(r).trimEnd(),
    '',
    '## How it is measured',
    '',
    "- The bench builds its own network namespaces (a node, a client and two Pods on a bridge, joined by veth pairs) and removes them at the end; it changes nothing in the host's namespace.",
    '- The cluster: N ClusterIP Services with one port and 10 endpoints each. The first and the last Service point at the two real Pods; the other endpoints are addresses that are never contacted.',
    '- Each mode runs in a process in the node namespace that builds the model and creates the dataplane as `kproxy run` does. Full sync: from empty tables. Partial sync: after one EndpointSlice changed. CPU: the process and the commands it ran (nft, iptables-restore, ip). RSS: the process and its worker processes.',
    '- First packet: the time of the TCP handshake (connect()) from the client to the Service address, to the first and the last Service and straight to a Pod, interleaved (`--samples`, 300 each by default). Request: a 64-byte message and its echo on a kept-alive connection (5 times as many). CPU per connection (the same number of connections, twice, alternating with direct): connect, one byte each way, close; the CPU time of the client, the Pod servers and every process in the node namespace, divided by the connections.',
    '- ebpf: the client runs in the cgroup the ebpf programs are attached to. HAProxy: a TCP proxy in the node namespace in front of the same two Pods.',
    "- kube-proxy (`--kube-proxy PATH`, when given): that binary in its iptables mode, in the node namespace, against the same Services and EndpointSlices served by a list/watch API server on the namespace's loopback; its sync times come from its own Prometheus metrics, its RSS and CPU from /proc.",
    "- Through a proxy (userspace, HAProxy) the client's handshake ends at the proxy, which connects to the Pod afterwards: their first-packet figure is the handshake with the proxy, and the request figure shows the second hop.",
    '- A size is not started when the full sync of the size before, scaled up, would take longer than the limit (`--max-sync-seconds`, 120 s by default).',
    '',
    'To measure again: `sudo npm run bench` (prints the tables), or `sudo kproxy bench --report docs/benchmarks/` (writes this page).',
    '',
  ].join('\n');
}
