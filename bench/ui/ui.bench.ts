// `npm run bench:ui`: the dashboard's first screen with 10,000 Services, in Debian's headless
// Chromium. The page is served by the dashboard add-on itself, in this process, from a
// ProxyState of N Services (3 endpoints each); no dataplane runs. Measured per page load:
//  - first screen: from navigation start to the first page of rows and the full count on screen;
//  - bytes transferred: every response body as it crossed the wire (gzip'd), the event stream's
//    reset included, from Chromium's own network events;
//  - the longest main-thread task (does the page freeze?);
//  - a filter keystroke and a live patch of one Service over the N rows.
// Reference, measured in the same run: the same page with the demo's 4 Services.
// Usage: node dist/bench/ui/ui.bench.js [services=10000] [runs=3]
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { defaultConfig } from '../../src/config/load.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { Addon } from '../../src/addons/addon.js';
import { dashboardAddon } from '../../src/ui/addon.js';
import { createLogger } from '../../src/util/log.js';
import { chromiumMissing, launchChromium } from '../../test/ui/chromium.js';

const SERVICES = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 3);

const ip = (base: number, i: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function slice(s: number, ready: boolean) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: `team-${s % 100}`, name: `svc-${s}-1`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
    addressType: 'IPv4',
    endpoints: [0, 1, 2].map((e) => ({ addresses: [ip(10, s * 3 + e + 1)], nodeName: e === 0 ? 'bench-node' : 'other', conditions: { ready: e === 0 ? ready : true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function trackerOf(n: number): ChangeTracker {
  const t = new ChangeTracker({ nodeName: 'bench-node', machineAddresses: ['192.168.0.2'] });
  for (let s = 0; s < n; s++) {
    t.upsert({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: `team-${s % 100}`, name: `svc-${s}` },
      spec:
        s % 4 === 0
          ? { type: 'NodePort', clusterIP: ip(172, 0x100000 + s), ports: [{ name: 'http', port: 80, nodePort: 30000 + (s % 2768) }] }
          : { clusterIP: ip(172, 0x100000 + s), ports: [{ name: 'http', port: 80 }] },
    });
    t.upsert(slice(s, true));
  }
  return t;
}

interface Sample {
  firstScreenMs: number;
  bytes: number;
  longestTaskMs: number;
  filterMs: number;
  patchMs: number;
}

async function serve(n: number): Promise<{ url: string; tracker: ChangeTracker; addon: Addon; server: Server }> {
  const config = { ...defaultConfig(), mode: 'userspace' as const, metricsBindAddress: '127.0.0.1:0' };
  const metrics = new ProxyMetrics();
  const addon = (await dashboardAddon({ config, log: createLogger(0), metrics }))!;
  const tracker = trackerOf(n);
  addon.update(tracker.snapshot());
  const server = await startMetricsServer('127.0.0.1:0', metrics, addon.routes);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ui/`, tracker, addon, server };
}

async function measure(n: number, runs: number): Promise<Sample[]> {
  const { url, tracker, addon, server } = await serve(n);
  const browser = await launchChromium();
  const out: Sample[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      await page.addInitScript(() => {
        const w = window as unknown as { longest: number };
        w.longest = 0;
        new PerformanceObserver((l) => l.getEntries().forEach((e) => (w.longest = Math.max(w.longest, e.duration)))).observe({ type: 'longtask', buffered: true });
      });
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      let bytes = 0;
      cdp.on('Network.dataReceived', (e: { encodedDataLength: number }) => (bytes += e.encodedDataLength));
      cdp.on('Network.responseReceived', (e: { response: { encodedDataLength?: number } }) => (bytes += e.response.encodedDataLength ?? 0)); // headers
      await page.goto(url);
      const want = `${n} of ${n} service ports`;
      await page.waitForFunction((w) => document.getElementById('count')?.textContent === w && document.querySelectorAll('#rows tr').length > 0, want, { timeout: 120_000, polling: 'raf' });
      const firstScreenMs = await page.evaluate(() => performance.now());
      if (process.env.UI_BENCH_DEBUG)
        console.log(
          n,
          await page.evaluate(() => performance.getEntriesByType('measure').map((m) => `${m.name} at ${m.startTime.toFixed(0)} took ${m.duration.toFixed(0)}`)),
          await page.evaluate(() => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((m) => `${m.name} ${m.startTime.toFixed(0)}..${m.responseEnd.toFixed(0)}`)),
        );
      // let the stream's remaining bytes (if any) arrive before counting
      await page.waitForTimeout(300);
      const filterMs = await page.evaluate(async () => {
        const f = document.getElementById('filter') as HTMLInputElement;
        const t0 = performance.now();
        f.value = 'svc-77';
        f.dispatchEvent(new Event('input'));
        await new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
        const t = performance.now() - t0;
        f.value = '';
        f.dispatchEvent(new Event('input'));
        return t;
      });
      // one Service's endpoint turns unready: time from the patch leaving the server to the row on screen
      const s = Math.min(5, n - 1);
      const target = `team-${s % 100}/svc-${s}:http/TCP/IPv4`;
      await page.fill('#filter', `team-${s % 100}/svc-${s}:http`);
      await page
        .waitForFunction((k) => [...document.querySelectorAll<HTMLElement>('#rows tr')].some((t) => t.dataset.key === k), target, { timeout: 5000 })
        .catch(async (e) => {
          console.log(
            await page.evaluate(() => [
              (document.getElementById('filter') as HTMLInputElement).value,
              document.getElementById('count')?.textContent,
              [...document.querySelectorAll<HTMLElement>('#rows tr')].map((t) => t.dataset.key).slice(0, 5),
            ]),
          );
          throw e;
        });
      const ready = r % 2 === 0 ? false : true;
      tracker.upsert(slice(s, ready));
      addon.update(tracker.snapshot());
      const patchMs = (await (
        await page
          .waitForFunction(
            ([k, v]) => {
              const tr = [...document.querySelectorAll<HTMLElement>('#rows tr')].find((t) => t.dataset.key === k);
              return tr?.querySelector('[data-col=ready]')?.textContent === v ? Date.now() - Number(document.body.dataset.patchAt) : false;
            },
            [target, ready ? '3' : '2'],
            { polling: 'raf', timeout: 30_000 },
          )
          .catch(async (e) => {
            console.log(
              await page.evaluate(
                (k) => [
                  document.body.dataset.generation,
                  document.getElementById('live')?.textContent,
                  [...document.querySelectorAll<HTMLElement>('#rows tr')].find((t) => t.dataset.key === k)?.textContent,
                ],
                target,
              ),
            );
            throw e;
          })
      ).jsonValue()) as number;
      const longestTaskMs = await page.evaluate(() => (window as unknown as { longest: number }).longest);
      out.push({ firstScreenMs, bytes, longestTaskMs, filterMs, patchMs });
      await context.close();
    }
  } finally {
    await browser.close();
    await addon.close();
    await new Promise((r) => server.close(r));
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) {
    console.log(`bench:ui skipped: ${missing}`);
    return;
  }
  const loadavg = (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`dashboard first screen, ${RUNS} runs each (median), load average before: ${loadavg}`);
  const ref = await measure(4, RUNS);
  const big = await measure(SERVICES, RUNS);
  const row = (label: string, s: Sample[]) => {
    const m = (k: keyof Sample) => median(s.map((x) => x[k]));
    console.log(
      `${label.padEnd(16)} first screen ${m('firstScreenMs').toFixed(0).padStart(5)} ms   transferred ${(m('bytes') / 1024).toFixed(1).padStart(7)} KiB   longest task ${m('longestTaskMs').toFixed(0).padStart(4)} ms   filter ${m('filterMs').toFixed(0).padStart(4)} ms   live patch on screen ${m('patchMs').toFixed(0).padStart(4)} ms`,
    );
    return { first: m('firstScreenMs'), bytes: m('bytes') };
  };
  const a = row('4 Services', ref);
  const b = row(`${SERVICES} Services`, big);
  console.log(`ratio ${SERVICES} / 4 Services: first screen ×${(b.first / a.first).toFixed(2)}, bytes ×${(b.bytes / a.bytes).toFixed(2)}`);
  console.log(
    `load average after: ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
