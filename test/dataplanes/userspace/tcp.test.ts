// The userspace proxy with real sockets on 127.0.0.0/8.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Harness, closeServer, holdOpen, net127, randomPort, service, slice, sleep, tcpBackend, whoAnswers } from './helpers.js';

describe('userspace TCP proxy', () => {
  const p = net127();
  const vip = `${p}.1`;
  const bport = randomPort();
  const names = ['a', 'b', 'c'];
  const ips = names.map((_, i) => `${p}.${101 + i}`);
  const eps = ips.map((ip) => ({ ip, port: bport }));
  let servers: net.Server[] = [];
  let h: Harness;
  const port = randomPort();

  before(async () => {
    servers = await Promise.all(names.map((n, i) => tcpBackend(n, ips[i], bport)));
  });
  after(async () => {
    await h?.close();
    await Promise.all(servers.map(closeServer));
  });

  it('rr: connections through the ClusterIP visit the backends in an exact cycle', async () => {
    h = new Harness();
    await h.apply(service({ name: 'web', clusterIP: vip, port }), slice('web', eps));
    assert.deepEqual(h.dataplane.listeners(), [`TCP/${vip}/${port}`]);
    const got: string[] = [];
    for (let i = 0; i < 9; i++) got.push(await whoAnswers(vip, port));
    const first = got.slice(0, 3);
    assert.deepEqual([...first].sort(), names);
    assert.deepEqual(got, [...first, ...first, ...first]);
  });

  it('lc: new connections go to the backend with the fewest open ones', async () => {
    await h.apply(service({ name: 'web', clusterIP: vip, port, annotations: { 'kproxy.io/scheduler': 'lc' } }));
    const held: { name: string; socket: net.Socket }[] = [];
    for (let i = 0; i < 6; i++) held.push(await holdOpen(vip, port));
    const per = (n: string) => held.filter((x) => x.name === n).length;
    assert.deepEqual(names.map(per), [2, 2, 2]);
    // end b's connections: the next two go to b
    for (const x of held.filter((x) => x.name === 'b')) x.socket.destroy();
    await sleep(100);
    const next = [await holdOpen(vip, port), await holdOpen(vip, port)];
    assert.deepEqual(
      next.map((x) => x.name),
      ['b', 'b'],
    );
    for (const x of [...held, ...next]) x.socket.destroy();
  });

  it('sh (annotation): each client IP always reaches the same backend', async () => {
    await h.apply(service({ name: 'web', clusterIP: vip, port, annotations: { 'kproxy.io/scheduler': 'sh' } }));
    const seen = new Set<string>();
    for (let c = 0; c < 12; c++) {
      const client = `${p}.${200 + c}`;
      const first = await whoAnswers(vip, port, client);
      for (let i = 0; i < 3; i++) assert.equal(await whoAnswers(vip, port, client), first);
      seen.add(first);
    }
    assert.ok(seen.size >= 2, 'clients are spread');
  });

  it('ClientIP affinity sticks for the timeout, then the scheduler chooses again', async () => {
    await h.apply(service({ name: 'web', clusterIP: vip, port, affinitySeconds: 1 }));
    const first = await whoAnswers(vip, port);
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(vip, port), first);
    await sleep(1200);
    // rr moved on while the affinity held; after the timeout the next pick is another backend
    assert.notEqual(await whoAnswers(vip, port), first);
  });

  it('ClientIP affinity moves when its backend leaves the endpoints, and sticks to the new one', async () => {
    await h.apply(service({ name: 'web', clusterIP: vip, port, affinitySeconds: 60 }));
    const first = await whoAnswers(vip, port);
    assert.equal(await whoAnswers(vip, port), first);
    await h.apply(
      slice(
        'web',
        eps.filter((_, i) => names[i] !== first),
      ),
    );
    const second = await whoAnswers(vip, port);
    assert.notEqual(second, first);
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(vip, port), second);
    await h.apply(slice('web', eps));
  });

  it('ClientIP affinity moves when its backend fails, without an error to the client', async () => {
    await h.apply(service({ name: 'web', clusterIP: vip, port, affinitySeconds: 60 }));
    const first = await whoAnswers(vip, port);
    const i = names.indexOf(first);
    await closeServer(servers[i]);
    try {
      const second = await whoAnswers(vip, port);
      assert.notEqual(second, first);
      for (let k = 0; k < 5; k++) assert.equal(await whoAnswers(vip, port), second);
    } finally {
      servers[i] = await tcpBackend(first, ips[i], bport);
    }
  });

  it('with one of three backends dead, 1,000 connections all succeed (retries, ejection)', async () => {
    await h.apply(service({ name: 'web', clusterIP: vip, port }));
    await closeServer(servers[1]);
    const retriesBefore = await h.metric('kproxy_userspace_retries_total');
    try {
      const counts = new Map<string, number>();
      let next = 0;
      const worker = async () => {
        while (next < 1000) {
          next++;
          const n = await whoAnswers(vip, port);
          counts.set(n, (counts.get(n) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 25 }, worker));
      assert.equal((counts.get('a') ?? 0) + (counts.get('c') ?? 0), 1000);
      assert.equal(counts.get('b'), undefined);
      const retries = (await h.metric('kproxy_userspace_retries_total')) - retriesBefore;
      assert.ok(retries >= 1, 'the refused connect was counted');
      assert.ok(retries < 100, `the dead backend was ejected, not retried on every connection (${retries})`);
    } finally {
      servers[1] = await tcpBackend('b', ips[1], bport);
    }
  });

  it('a backend that never answers the connect is passed over after the first dial timeout', async () => {
    // A listener in a stopped process with a full accept queue: the kernel drops further SYNs,
    // so a connect to it times out exactly like one to a dead host.
    const hangIP = `${p}.150`;
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen({host: '${hangIP}', port: ${bport}, backlog: 1}, () => console.log('ready'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const h2 = new Harness({}, { dialTimeoutsMs: [100, 200, 400] });
    const vip2 = `${p}.2`;
    try {
      await new Promise((r) => child.stdout!.once('data', r));
      process.kill(child.pid!, 'SIGSTOP');
      const fillers: net.Socket[] = [];
      for (;;) {
        const s = net.connect({ host: hangIP, port: bport });
        s.on('error', () => {});
        fillers.push(s);
        const ok = await Promise.race([new Promise((r) => s.once('connect', () => r(true))), sleep(200).then(() => false)]);
        if (!ok) break;
      }
      await h2.apply(
        service({ name: 'web', clusterIP: vip2, port }),
        slice('web', [
          { ip: ips[0], port: bport },
          { ip: hangIP, port: bport },
        ]),
      );
      for (let i = 0; i < 4; i++) {
        const t0 = Date.now();
        assert.equal(await whoAnswers(vip2, port), 'a');
        assert.ok(Date.now() - t0 < 1000);
      }
      const m = await h2.metrics.registry.getSingleMetric('kproxy_userspace_retries_total')!.get();
      assert.equal(m.values.find((v) => v.labels.reason === 'timeout')?.value, 1, 'one timeout, then the backend was ejected');
      for (const s of fillers) s.destroy();
    } finally {
      await h2.close();
      child.kill('SIGKILL');
    }
  });

  it('no endpoints: refused at once; eTP Local without local endpoints: the node itself is short-circuited, outsiders dropped', async () => {
    const vip3 = `${p}.3`;
    const ext = `${p}.4`;
    await h.apply(
      service({ name: 'empty', clusterIP: vip3, port }),
      service({ name: 'remote', clusterIP: `${p}.5`, port, externalIPs: [ext], externalTrafficPolicy: 'Local' }),
      slice('remote', [{ ip: ips[0], port: bport }], { nodeName: 'other-node' }),
    );
    const t0 = Date.now();
    await assert.rejects(whoAnswers(vip3, port), /ECONNRESET|closed/);
    assert.ok(Date.now() - t0 < 1000);
    assert.ok((await h.metric('kproxy_userspace_rejected_total')) >= 1);
    // the ClusterIP of "remote" works (Cluster internal policy)
    assert.equal(await whoAnswers(`${p}.5`, port), 'a');
    // its external IP, from the node itself (every client here is on loopback): the model
    // short-circuits node traffic to the cluster-wide endpoints, as kube-proxy does
    assert.equal(await whoAnswers(ext, port), 'a');
    // from outside the node the external set is used, which is empty: dropped, not refused
    const key = [...h.tracker.current().servicePorts.values()].find((sp) => sp.name === 'remote')!.key;
    const b = h.dataplane.balancer(key)!;
    assert.equal(b.setFor('external', '203.0.113.9'), 'external');
    assert.equal(b.backends('external').length, 0);
    assert.equal(b.noEndpoints('external'), 'drop');
    assert.equal(b.setFor('external', '127.0.0.1'), 'shortCircuit');
  });

  it('an SCTP Service is reported and skipped; the others keep working', async () => {
    await h.apply(service({ name: 'sctp', clusterIP: `${p}.6`, port, protocol: 'SCTP' }));
    assert.ok(!h.dataplane.listeners().some((l) => l.startsWith('SCTP')));
    assert.ok(['a', 'b', 'c'].includes(await whoAnswers(`${p}.5`, port)));
  });
});
