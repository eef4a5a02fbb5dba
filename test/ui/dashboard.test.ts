// The dashboard in a real headless Chromium, on the running demo (examples/ plus a Service
// without endpoints and one whose name is HTML): the Services and their endpoint counts, a
// backend turning unready updating its row live, the trace form against `kproxy trace`, object
// text shown as text, the security headers, and no console error along the way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { fromRoot } from '../helpers/paths.js';
import { chromiumMissing, launchChromium } from './chromium.js';
import { startDemo, type RunningDemo } from './demo.js';

const HOSTILE = '<img src=x onerror="document.title=\'owned\'">';
const EXTRA = {
  'more.yaml': `
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: demo}
spec:
  selector: {app: nothing-runs-this}
  clusterIP: 127.96.0.20
  ports:
  - {name: http, port: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: '${HOSTILE.replaceAll("'", "''")}', namespace: demo}
spec:
  selector: {app: web}
  ports:
  - {port: 8080}
`,
};

const DEMO_PORTS = ['web', 'web-nodeport', 'web-sticky', 'web-maglev'];
const key = (name: string) => `demo/${name}:http/TCP/IPv4`;

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

interface RowCells {
  [col: string]: string;
}

async function row(page: Page, k: string): Promise<RowCells | null> {
  return page.evaluate((k) => {
    const tr = [...document.querySelectorAll<HTMLTableRowElement>('#rows tr')].find((t) => t.dataset.key === k);
    if (!tr) return null;
    return Object.fromEntries([...tr.querySelectorAll<HTMLTableCellElement>('td')].map((td) => [td.dataset.col!, td.textContent!]));
  }, k);
}

const skip = chromiumMissing();
if (skip) console.log(`# dashboard browser tests skipped: ${skip}`);

describe('dashboard in Chromium, on the demo', { skip: skip ?? false }, () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    demo = await startDemo(EXTRA);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('/ redirects to /ui/, served with a restrictive Content-Security-Policy', async () => {
    const res = await page.goto(demo.url);
    assert.ok(res);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers()['x-content-type-options'], 'nosniff');
  });

  it("shows the demo's Services with their endpoint counts", async () => {
    await page.waitForFunction((keys) => keys.every((k) => [...document.querySelectorAll<HTMLElement>('#rows tr')].some((t) => t.dataset.key === k)), DEMO_PORTS.map(key), { timeout: 15_000 });
    // the probes pass within a couple of seconds of the start: every web Pod ready
    await page.waitForFunction((k) => [...document.querySelectorAll<HTMLElement>('#rows tr')].find((t) => t.dataset.key === k)?.querySelector('[data-col=ready]')?.textContent === '3', key('web'), {
      timeout: 15_000,
    });
    for (const name of DEMO_PORTS) {
      const r = await row(page, key(name));
      assert.ok(r, name);
      assert.deepEqual([r.ready, r.serving, r.terminating, r.local, r.remote], ['3', '3', '0', '3', '0'], `${name}: ${JSON.stringify(r)}`);
    }
    const web = (await row(page, key('web')))!;
    assert.equal(web.clusterIP, `${demo.vips}10`);
    assert.equal(web.type, 'ClusterIP');
    assert.equal(web.dns, 'web.demo.svc.cluster.local');
    assert.equal((await row(page, key('web-nodeport')))!.nodePort, String(demo.nodePort));
    assert.equal((await row(page, key('web-sticky')))!.affinity, 'ClientIP 60s');
    const empty = (await row(page, key('empty')))!;
    assert.deepEqual([empty.ready, empty.serving, empty.local, empty.remote], ['0', '0', '0', '0']);
  });

  it("a Service's detail lists its endpoints, the sets the model chose, its listeners and DNS records", async () => {
    await page.click(`#rows tr[data-key="${key('web')}"]`);
    await page.waitForSelector('#endpoints');
    const eps = await page.$$eval('#endpoints tr[data-endpoint]', (trs) => trs.map((t) => [...t.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(
      eps.map((e) => e[0]).sort(),
      [1, 2, 3].map((n) => `${demo.pods}${n}:8080`),
    );
    for (const e of eps) assert.deepEqual(e.slice(4, 8), ['yes', '–', 'yes', '–'], JSON.stringify(e)); // cluster, local (unused), ClusterIP traffic, external (none)
    assert.match((await page.textContent('#rules'))!, new RegExp(`TCP ${demo.vips.replaceAll('.', '\\.')}10:8080 +internal traffic`));
    assert.match((await page.textContent('#dns'))!, new RegExp(`^web\\.demo\\.svc\\.cluster\\.local\\. \\d+ IN A ${demo.vips.replaceAll('.', '\\.')}10$`, 'm'));
  });

  it('the trace form gives the verdict and endpoints `kproxy trace` gives', async () => {
    const packets = [
      { src: '10.0.0.1', dst: `${demo.vips}10`, dport: '8080', protocol: 'tcp' }, // DNAT over three
      { src: '10.0.0.1', dst: `${demo.vips}20`, dport: '8080', protocol: 'tcp' }, // no endpoints
      { src: '10.0.0.1', dst: `${demo.vips}10`, dport: '9999', protocol: 'udp' }, // no such port
    ];
    const verdicts = new Set<string>();
    for (const p of packets) {
      const cli = spawnSync(
        process.execPath,
        [fromRoot('bin/kproxy.js'), 'trace', '--manifests', demo.dir, ...demo.flags, '--src', p.src, '--dst', p.dst, '--dport', p.dport, '--protocol', p.protocol, '--json'],
        { encoding: 'utf8' },
      );
      assert.equal(cli.status, 0, cli.stderr);
      const want = JSON.parse(cli.stdout) as { verdict: string; endpoints: { ip: string; port: number; probability: number }[]; masquerade: boolean; path: unknown[] };
      for (const [f, v] of Object.entries(p)) await page.fill(`#trace-form [name=${f}]`, v).catch(() => page.selectOption(`#trace-form [name=${f}]`, v));
      await page.evaluate(() => document.getElementById('trace-result')!.replaceChildren());
      await page.click('#trace-form button[type=submit]');
      await page.waitForSelector('#trace-verdict', { timeout: 10_000 });
      assert.equal(await page.textContent('#trace-verdict'), want.verdict, JSON.stringify(p));
      const shown = await page.$$eval('#trace-endpoints tr', (trs) => trs.slice(1).map((t) => [...t.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepEqual(shown.sort(), want.endpoints.map((e) => [`${e.ip}:${e.port}`, `${(e.probability * 100).toFixed(2)} %`]).sort());
      // and the whole answer the form got, rule by rule
      const got = await page.evaluate(async (q) => (await fetch(`api/trace?${new URLSearchParams(q)}`)).json(), p);
      assert.deepEqual({ verdict: got.verdict, endpoints: got.endpoints, masquerade: got.masquerade, path: got.path }, want);
      assert.match(got.ruleset, /userspace mode programs no ruleset/);
      verdicts.add(want.verdict);
    }
    assert.ok(verdicts.size >= 2, `the packets reach different verdicts: ${[...verdicts]}`);
    // a bad field is named, not a stack trace
    await page.fill('#trace-form [name=src]', 'not-an-ip');
    await page.evaluate(() => document.getElementById('trace-result')!.replaceChildren());
    await page.click('#trace-form button[type=submit]');
    assert.equal(await (await page.waitForSelector('#trace-error')).textContent(), 'src: "not-an-ip" is not an IP address');
  });

  it('a backend turning unready updates its row live, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const t0 = Date.now();
    assert.match(await get(`http://${demo.pods}2:8080/unready`), /.+/);
    const delivery = (await (
      await page.waitForFunction(
        (k) => {
          const tr = [...document.querySelectorAll<HTMLElement>('#rows tr')].find((t) => t.dataset.key === k);
          return tr?.querySelector('[data-col=ready]')?.textContent === '2' ? Date.now() - Number(document.body.dataset.patchAt) : false;
        },
        key('web'),
        { timeout: 15_000, polling: 'raf' },
      )
    ).jsonValue()) as number;
    const total = Date.now() - t0;
    console.log(`# web-2 unready: row updated ${total} ms after /unready (the probe fails twice at 1 s periods first); ${delivery} ms after the sync that saw it`);
    assert.equal(await page.evaluate(() => (window as unknown as { marker: number }).marker), 42, 'the page was not reloaded');
    assert.ok(delivery <= 2000, `on the page ${delivery} ms after the sync (at most 2 s)`);
    const r = (await row(page, key('web')))!;
    assert.deepEqual([r.ready, r.serving, r.terminating], ['2', '2', '0']);
    // the open detail follows too: web-2 is out of the cluster set
    await page.waitForFunction((ep) => document.querySelector(`#endpoints tr[data-endpoint="${ep}"] td:nth-child(5)`)?.textContent === 'no', `${demo.pods}2:8080`, { timeout: 5_000 });
    await get(`http://${demo.pods}2:8080/ready`);
    await page.waitForFunction((k) => [...document.querySelectorAll<HTMLElement>('#rows tr')].find((t) => t.dataset.key === k)?.querySelector('[data-col=ready]')?.textContent === '3', key('web'), {
      timeout: 15_000,
    });
  });

  it('an object named with HTML is shown as text', async () => {
    const items = await page.$$eval('#invalid li', (lis) => lis.map((l) => l.textContent));
    assert.ok(
      items.some((t) => t!.includes(`Service demo/${HOSTILE}: metadata.name:`)),
      JSON.stringify(items),
    );
    assert.equal(await page.$$eval('img', (imgs) => imgs.length), 0);
    assert.equal(await page.title(), 'kproxy');
    await page.fill('#filter', '<img');
    await page.waitForFunction(() => document.getElementById('count')!.textContent!.startsWith('0 of'));
    await page.fill('#filter', '');
  });

  it('the health panel shows the last sync, /healthz and the charts', async () => {
    assert.match((await page.textContent('#last-sync'))!, /· (full|partial) · [\d.]+ ms · generation \d+/);
    assert.match((await page.textContent('#healthz'))!, /^healthy/);
    assert.equal(await page.$$eval('#health canvas', (c) => c.length), 2);
  });

  it('no console errors, warnings or failed requests', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
