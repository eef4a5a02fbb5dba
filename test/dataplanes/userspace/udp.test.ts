// UDP through the userspace proxy: per-client sessions, replies from the service address,
// idle timeout, and a refusing backend passed over.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { Harness, net127, randomPort, service, slice, sleep, udpBackend } from './helpers.js';

function ask(sock: dgram.Socket, msg: string, ip: string, port: number): Promise<{ text: string; from: string; fromPort: number }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      sock.off('message', on);
      reject(new Error(`no UDP reply from ${ip}:${port}`));
    }, 2000);
    const on = (m: Buffer, r: dgram.RemoteInfo) => {
      clearTimeout(t);
      sock.off('message', on);
      resolve({ text: String(m), from: r.address, fromPort: r.port });
    };
    sock.on('message', on);
    sock.send(msg, port, ip);
  });
}

async function client(ip: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, ip, () => r()));
  return s;
}

describe('userspace UDP proxy', () => {
  const p = net127();
  const vip = `${p}.1`;
  const port = randomPort();
  const bport = randomPort();
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('echoes through the VIP, the reply coming from the VIP; sessions end when idle', async () => {
    const a = await udpBackend('a', `${p}.101`, bport);
    const b = await udpBackend('b', `${p}.102`, bport);
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const h = new Harness({ udpIdleTimeoutMs: 300 });
    closers.push(() => h.close());
    await h.apply(
      service({ name: 'dns', clusterIP: vip, port, protocol: 'UDP' }),
      slice(
        'dns',
        [
          { ip: `${p}.101`, port: bport },
          { ip: `${p}.102`, port: bport },
        ],
        { protocol: 'UDP' },
      ),
    );
    assert.deepEqual(h.dataplane.listeners(), [`UDP/${vip}/${port}`]);

    const c1 = await client(`${p}.201`);
    const c2 = await client(`${p}.202`);
    closers.push(
      () => c1.close(),
      () => c2.close(),
    );
    const r1 = await ask(c1, 'hello', vip, port);
    assert.equal(r1.from, vip);
    assert.equal(r1.fromPort, port);
    const who1 = r1.text.split(':')[0];
    assert.equal(r1.text, `${who1}:hello`);
    // the same client stays in its session (same backend); the next client gets the other (rr)
    for (let i = 0; i < 5; i++) assert.equal((await ask(c1, `m${i}`, vip, port)).text, `${who1}:m${i}`);
    const r2 = await ask(c2, 'x', vip, port);
    assert.notEqual(r2.text.split(':')[0], who1);
    assert.equal(await h.metric('kproxy_userspace_udp_sessions'), 2);
    await sleep(800);
    assert.equal(await h.metric('kproxy_userspace_udp_sessions'), 0, 'idle sessions ended');
    // a new datagram opens a new session
    assert.equal((await ask(c1, 'again', vip, port)).from, vip);
  });

  it('a backend that refuses (ICMP port unreachable) is ejected; the client is answered by another', async () => {
    const vip2 = `${p}.2`;
    const live = await udpBackend('live', `${p}.111`, bport);
    closers.push(() => live.close());
    const h = new Harness();
    closers.push(() => h.close());
    // .110 has nothing listening: the kernel answers with port unreachable
    await h.apply(
      service({ name: 'u2', clusterIP: vip2, port, protocol: 'UDP' }),
      slice(
        'u2',
        [
          { ip: `${p}.110`, port: bport },
          { ip: `${p}.111`, port: bport },
        ],
        { protocol: 'UDP' },
      ),
    );
    const c = await client(`${p}.210`);
    closers.push(() => c.close());
    let answer = '';
    for (let i = 0; i < 5 && !answer; i++) {
      answer = await ask(c, 'q', vip2, port).then(
        (r) => r.text,
        () => '',
      );
    }
    assert.equal(answer, 'live:q');
    for (let i = 0; i < 5; i++) assert.equal((await ask(c, 'q', vip2, port)).text, 'live:q');
  });

  it('sessions to an endpoint that left are ended, so the client moves on', async () => {
    const vip3 = `${p}.3`;
    const x = await udpBackend('x', `${p}.121`, bport);
    const y = await udpBackend('y', `${p}.122`, bport);
    closers.push(
      () => x.close(),
      () => y.close(),
    );
    const h = new Harness();
    closers.push(() => h.close());
    const both = [
      { ip: `${p}.121`, port: bport },
      { ip: `${p}.122`, port: bport },
    ];
    await h.apply(service({ name: 'u3', clusterIP: vip3, port, protocol: 'UDP' }), slice('u3', both, { protocol: 'UDP' }));
    const c = await client(`${p}.220`);
    closers.push(() => c.close());
    const first = (await ask(c, 'q', vip3, port)).text.split(':')[0];
    const keep = both.filter((b) => !b.ip.endsWith(first === 'x' ? '.121' : '.122'));
    await h.apply(slice('u3', keep, { protocol: 'UDP' }));
    assert.notEqual((await ask(c, 'q', vip3, port)).text.split(':')[0], first);
  });
});
