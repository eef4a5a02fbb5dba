// The batched UDP path (recvmmsg/sendmmsg, src/dns/mmsg.ts): a burst of queries from one
// socket, sent without waiting, is answered in full and correctly, and part of it was read in
// batches. The same burst on Node's one-datagram path (KPROXY_DNS_MMSG=off) — and the other
// DNS test files (but the fuzzer), rerun in a child process — must pass as well.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { loadLibc } from '../../src/dataplanes/userspace/splice/libc.js';
import { startServer, type Running } from './helpers.js';

const COUNT = 2000;

async function burst(port: number): Promise<Map<number, string>> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(4 << 20);
  const got = new Map<number, string>();
  const done = new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 5000);
    sock.on('message', (m) => {
      const p = dnsPacket.decode(m);
      const a = p.answers?.[0];
      got.set(p.id!, `${(p as { rcode?: string }).rcode} ${a?.type === 'A' ? a.data : ''}`);
      if (got.size === COUNT) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  for (let id = 0; id < COUNT; id++) {
    const name = id % 3 === 2 ? `nope-${id}.demo.svc.cluster.local` : id % 3 === 1 ? 'WEB.demo.svc.cluster.local' : 'web.demo.svc.cluster.local';
    sock.send(dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
  }
  await done;
  sock.close();
  return got;
}

for (const mode of ['batched', 'one datagram per call'] as const) {
  describe(`DNS over UDP, ${mode}`, { skip: mode === 'batched' && !loadLibc() ? 'koffi is not available' : false }, () => {
    let s: Running;
    after(() => s?.close());

    it(`answers a burst of ${COUNT} queries sent without waiting, each with its own answer`, async () => {
      const before = process.env.KPROXY_DNS_MMSG;
      process.env.KPROXY_DNS_MMSG = mode === 'batched' ? 'auto' : 'off';
      try {
        s = await startServer();
      } finally {
        if (before === undefined) delete process.env.KPROXY_DNS_MMSG;
        else process.env.KPROXY_DNS_MMSG = before;
      }
      assert.equal(s.server.batchers.length, mode === 'batched' ? 1 : 0);
      const got = await burst(s.port);
      // UDP on loopback may drop when the receive queue overflows: nearly all must arrive
      assert.ok(got.size >= COUNT * 0.95, `${got.size} of ${COUNT} answered`);
      for (const [id, answer] of got) assert.equal(answer, id % 3 === 2 ? 'NXDOMAIN ' : 'NOERROR 10.96.0.10', `query ${id}`);
      if (mode === 'batched') assert.ok(s.server.batchers[0].batched > 0, 'some queries were read by recvmmsg');
    });
  });
}

it('every DNS test passes on the one-datagram path (KPROXY_DNS_MMSG=off)', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(here)
    // fuzz.test.js counts answers to 4,000 packets sent at speed, which only a lightly loaded
    // machine meets twice at once; the burst above covers that path's throughput.
    // records.test.js (~45 records, one dig process each) and changes.test.js (answers after
    // model changes, seconds of waiting for snapshots) test answer content, which comes from the
    // same answer() on either receive path; the one-datagram path's receiving, sending,
    // truncation and forwarding are what the other files cover here
    .filter((f) => f.endsWith('.test.js') && !['mmsg.test.js', 'fuzz.test.js', 'records.test.js', 'changes.test.js'].includes(f))
    .map((f) => join(here, f));
  const env: NodeJS.ProcessEnv = { ...process.env, KPROXY_DNS_MMSG: 'off' };
  delete env.NODE_TEST_CONTEXT; // a runner of its own, not a child of this one
  // the files mostly wait on dig and sockets: run them side by side
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${files.length}`, ...files], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const passed = /^ℹ pass (\d+)$/m.exec(r.stdout);
  assert.ok(passed && Number(passed[1]) >= 12, `the tests ran (${passed?.[0]})`);
});
