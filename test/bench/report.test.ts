// The bench report from fixed results: tables, ratios to direct, what was not measured, the
// machine and its load, and the charts as SVG (rendered by Vega in Node).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cpuSpec, firstPacketSpec, renderSvg, syncTimeSpec } from '../../src/bench/charts.js';
import { writeReport } from '../../src/bench/command.js';
import { guestModes } from '../../src/bench/guest.js';
import { renderReport, renderTables } from '../../src/bench/report.js';
import { fixture, traffic } from './fixture.js';

const rowOf = (text: string, start: string) => text.split('\n').find((l) => l.startsWith(start)) ?? assert.fail(`no row starting ${start}`);

describe('bench report', () => {
  it('prints each measured size with its sync figures, named by the backend where the mode has one', () => {
    const t = renderTables(fixture());
    assert.equal(rowOf(t, '| nftables | 1,000 | 200 ms'), '| nftables | 1,000 | 200 ms | 100 ms | 12.5 ms | 5 ms | 80 MB |');
    assert.match(t, /^\| iptables-nft \| 100 \| 80 ms /m);
  });

  it('gives every traffic figure as a ratio to the direct connection of the same run', () => {
    const row = rowOf(renderTables(fixture()), '| nftables | 1,000 | 115 / 900');
    const cells = row.split('|').map((c) => c.trim());
    // last Service 120 µs against direct 100 µs; request 60 against 50; CPU 300 against 200
    assert.equal(cells[4], '120 / 1,000');
    assert.equal(cells[5], '100 / 800');
    assert.equal(cells[6], '1.20×');
    assert.equal(cells[9], '1.20×');
    assert.equal(cells[10], '300 / 200');
    assert.equal(cells[11], '1.50×');
    assert.match(rowOf(renderTables(fixture()), '| HAProxy (reference)'), /\| 1\.50× \|/);
  });

  it('shows a kube-proxy binary beside the modes, with its version and the rules it left in the kernel', () => {
    const t = renderTables(fixture());
    assert.equal(rowOf(t, '| kube-proxy (iptables mode), Kubernetes v1.31.0 | 100 |'), '| kube-proxy (iptables mode), Kubernetes v1.31.0 | 100 | 300 ms | 150 ms | 45.0 ms | 5 ms | 80 MB |');
    assert.match(rowOf(t, '| kube-proxy (iptables mode), Kubernetes v1.31.0 | 100 | 135 / 900'), /\| 1\.40× \|/);
    assert.match(t, /`--version`: Kubernetes v1\.31\.0/);
    assert.match(t, /Rules in the kernel after the first sync: 2,400 at 100 Services\./);
    assert.doesNotMatch(t, /kube-proxy[^\n]*\| 1,000 \|/);
  });

  it('lists what was not measured with its reason, never as a figure', () => {
    const t = renderTables(fixture());
    assert.match(t, /- \*\*userspace\*\*: not measured: needs root/);
    assert.match(t, /- \*\*iptables\*\* at 1,000 Services: failed: the sync worker failed \(exit 1\): boom/);
    assert.match(t, /- \*\*kube-proxy \(iptables mode\), Kubernetes v1\.31\.0\*\* at 1,000 Services: failed: .*did not report its first sync within 190 s/);
    assert.match(t, /ipvs in the guest kernel: not measured: the guest benchmark is not in this build/);
    assert.doesNotMatch(t, /^\| userspace \|/m);
    assert.doesNotMatch(t, /^\| iptables-nft \| 1,000 \|/m);
  });

  it('says that in the iptables modes the direct connection also walks the ruleset, and only there', () => {
    const note = /the direct connection is not free of the ruleset/;
    assert.match(renderTables(fixture()), note);
    const r = fixture();
    r.modes = r.modes.filter((m) => m.mode !== 'iptables');
    assert.doesNotMatch(renderTables(r), note);
  });

  it('shows the guest modes in their own section when the guest was measured', () => {
    const r = fixture();
    r.guest = { status: 'measured', kernel: 'Linux 6.1.176 (user-mode Linux)', modes: [{ mode: 'ipvs', status: 'measured', sizes: [r.modes[0].sizes[0]] }] };
    const t = renderTables(r);
    const guest = t.slice(t.indexOf('ipvs beside iptables'));
    assert.match(guest, /Linux 6\.1\.176/);
    assert.match(guest, /^\| ipvs \| 100 \| 40 ms /m);
  });

  it('states the machine, kernel, versions and load, and links its charts and raw figures', () => {
    const page = renderReport(fixture());
    assert.match(page, /Test CPU @ 2\.00GHz, 2 cores/);
    assert.match(page, /Debian GNU\/Linux 12 \(bookworm\), Linux 6\.18\.44/);
    assert.match(page, /0\.1\.0, v20\.20\.2/);
    assert.match(page, /12\.5 at the start, 14 at the end, 11\.2–17\.9 during the run/);
    for (const f of ['sync-time.svg', 'first-packet.svg', 'cpu-per-connection.svg', 'results.json']) assert.ok(page.includes(`(${f})`), f);
  });

  it('draws the charts as SVG with every measured mode in them', async () => {
    const r = fixture();
    const sync = await renderSvg(syncTimeSpec(r));
    assert.match(sync, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const label of ['nftables', 'iptables', 'kube-proxy (iptables mode)', 'full sync', 'Services']) assert.ok(sync.includes(`>${label}<`), label);
    assert.ok(!sync.includes('>userspace<'), 'a skipped mode has no line');
    const first = await renderSvg(firstPacketSpec(r));
    assert.ok(first.includes('>direct to the Pod<'));
    const cpu = await renderSvg(cpuSpec(r));
    for (const label of ['nftables (1000 Services)', 'iptables (100 Services)', 'HAProxy', 'direct to the Pod']) assert.ok(cpu.includes(`>${label}<`), label);
  });

  it('writes the page, the charts and the raw figures into the report folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-report-'));
    try {
      await writeReport(fixture(), dir);
      for (const f of ['README.md', 'results.json', 'sync-time.svg', 'first-packet.svg', 'cpu-per-connection.svg']) assert.ok(existsSync(join(dir, f)), f);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')), fixture());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes the guest's kept-alive round trips and CPU per connection where its benchmark measured them", () => {
    const lat = { p50Us: 150, p99Us: 900 };
    const t = traffic(150, 100);
    const [ipvs] = guestModes(
      {
        skipped: null,
        guestKernel: '6.1.176',
        rows: [{ mode: 'ipvs', services: 100, endpoints: 10, fullMs: 900 }],
        latency: [{ mode: 'ipvs', services: 100, n: 300, first: lat, last: lat, direct: lat, traffic: t }],
      },
      [100],
      10,
    );
    assert.deepEqual(ipvs.sizes[0].request, t.request);
    assert.deepEqual(ipvs.sizes[0].cpuPerConnectionUs, t.cpuPerConnectionUs);
    const r = fixture();
    r.guest = { status: 'measured', kernel: 'Linux 6.1.176', modes: [ipvs] };
    const text = renderTables(r);
    assert.match(text, /^\| ipvs \| 100 \| 145 \/ 900 \| 150 \/ 1,000 \| 100 \/ 800 \| 1\.50× \| 60 \/ 300 \| 50 \/ 250 \| 1\.20× \| 300 \/ 200 \| 1\.50× \|$/m);
    assert.doesNotMatch(text, /measured no kept-alive/);
  });

  it("translates the guest benchmark's figures, and names the sizes it has none for", () => {
    const lat = { p50Us: 150, p99Us: 900 };
    const modes = guestModes(
      {
        skipped: null,
        guestKernel: '6.1.176',
        rows: [{ mode: 'ipvs', services: 100, endpoints: 10, fullMs: 900, partialMs: 40, rssMB: 70 }],
        latency: [{ mode: 'ipvs', services: 100, n: 200, first: lat, last: lat, direct: { p50Us: 100, p99Us: 500 } }],
        errors: ['iptables-legacy 100: the restore timed out'],
      },
      [100, 1000],
      10,
    );
    const ipvs = modes.find((m) => m.mode === 'ipvs')!;
    assert.equal(ipvs.sizes[0].status, 'measured');
    assert.equal(ipvs.sizes[0].fullSyncMs, 900);
    assert.deepEqual(ipvs.sizes[0].firstPacket!.direct, { p50: 100, p99: 500, n: 200 });
    assert.equal(ipvs.sizes[1].status, 'failed');
    const legacy = modes.find((m) => m.mode === 'iptables')!;
    assert.deepEqual([legacy.sizes[0].status, legacy.sizes[0].reason], ['failed', 'iptables-legacy 100: the restore timed out']);
    const r = fixture();
    r.guest = { status: 'measured', kernel: 'Linux 6.1.176', modes };
    assert.match(renderTables(r), /^\| ipvs \| 100 \| 150 \/ 900 \| 150 \/ 900 \| 100 \/ 500 \| 1\.50× \| — \| — \| — \| — \| — \|$/m);
  });
});
