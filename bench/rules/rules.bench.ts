// What one /rules request costs the event loop right after a sync, at N Services × 10
// endpoints, nftables and iptables: the page rendered in one piece (as before; a ruleset that
// offers no sliced render) against in slices (src/rules/slices.ts). Each variant runs in its
// own child process (RSS figures are per process). Prints one JSON line per variant: wall
// and CPU of the render, the event loop's longest stall while it ran (a 1 ms timer), the
// pauses, the body's size and the RSS growth and peak during the render.
//   node dist/bench/rules/rules.bench.js [N=10000] [rounds=3]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/config/load.js';
import { RENDER_SLICE_PORTS, type AppliedRuleset } from '../../src/dataplanes/dataplane.js';
import { familyContext, FAMILIES, portsOf } from '../../src/dataplanes/nftables/compile.js';
import { replaceChunks, replaceText } from '../../src/dataplanes/nftables/fullsync.js';
import { compileText, compileTextChunks } from '../../src/dataplanes/iptables/text.js';
import { NODE, serviceObject, sliceObject } from '../../src/bench/cluster.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { servedRuleset } from '../../src/rules/page.js';

const [nText, roundsText, child] = process.argv.slice(2);
const n = Number(nText ?? 10_000);
const rounds = Number(roundsText ?? 3);

if (!child) {
  for (const mode of ['nftables', 'iptables']) {
    for (const how of ['whole', 'sliced']) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(n), String(rounds), `${mode}:${how}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(r.stdout);
    }
  }
} else {
  const [mode, how] = child.split(':');
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
  for (let i = 0; i < n; i++) {
    tracker.upsert(serviceObject(i) as never);
    tracker.upsert(sliceObject(i, n, 10) as never);
  }
  const state = tracker.snapshot();
  const config = { ...defaultConfig(), mode: mode as 'nftables' | 'iptables', clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'] };
  const base = { mode, appliedAt: new Date(), generation: state.generation, node: NODE, nodeAddresses: [] };
  let ruleset: AppliedRuleset;
  if (mode === 'nftables') {
    const tables = FAMILIES.map((family) => {
      const fc = familyContext(family, config, state.node);
      return { family, fc, ports: portsOf(state, fc.ipFamily) };
    });
    ruleset = { ...base, render: () => replaceText(tables), ...(how === 'sliced' ? { chunks: () => replaceChunks(tables, RENDER_SLICE_PORTS) } : {}) };
  } else {
    ruleset = { ...base, render: () => compileText(state, config), ...(how === 'sliced' ? { chunks: () => compileTextChunks(state, config, RENDER_SLICE_PORTS) } : {}) };
  }
  for (let k = 0; k < rounds; k++) {
    const served = servedRuleset(); // a fresh page: the first request after a sync
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let last = performance.now();
    let stall = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 1);
    await new Promise((r) => setTimeout(r, 20));
    last = performance.now();
    stall = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const body = await served.body({ ...ruleset, appliedAt: new Date() }, 'text', false);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    stall = Math.max(stall, performance.now() - last);
    peak = Math.max(peak, process.memoryUsage().rss);
    clearInterval(timer);
    const mb = (x: number) => +(x / 1e6).toFixed(1);
    console.log(
      JSON.stringify({
        mode,
        render: how,
        services: n,
        round: k + 1,
        wallMs: Math.round(wall),
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        longestStallMs: +stall.toFixed(1),
        pauses: served.stats.pauses,
        bodyMB: mb(body.length),
        rssGrowthMB: mb(process.memoryUsage().rss - rss0),
        rssPeakMB: mb(peak),
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
  }
}
