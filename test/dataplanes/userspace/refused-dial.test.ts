// A client whose bytes arrive while no backend is connected, through a Service one of whose
// endpoints refuses: the refused dial is retried on the other endpoint, and the bytes wait
// and are delivered. On the splice path the pump once read bytes that arrived between a
// refused dial and main's next word (dial again) towards no socket, and the client was reset
// ('socket hang up' in the demo, about 1 run in 8). Here the gap is made wide on purpose: the
// test holds this process's main thread (which runs the proxy's main side: it hands the client
// to the pump, hears of the refusal and asks for the next dial) while the pump dials and is
// refused, and the client writes in the middle of that hold. The hold starts right behind the
// pump's wake-up (a wrapper on the splice engine's dial queues it in the same turn). Without
// the fix in pump.ts every connection sent first to the refusing endpoint lost its bytes (23
// of 24 in each of three runs); with it, none. The JS copy path runs the same sequence (there
// main does everything, so the hold only delays it).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { loadLibc } from '../../../src/dataplanes/userspace/splice/libc.js';
import { Harness, closeServer, net127, randomPort, service, slice } from './helpers.js';

/** Echoes what a connection sends and ends when it ends. */
async function echo(ip: string, port: number): Promise<net.Server> {
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => srv.listen(port, ip, () => r()));
  return srv;
}

/** Holds this thread (and with it the proxy's main side) for `ms`. */
function hold(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const CONNECTIONS = 24;
/** Long enough for the pump thread to take the dial and be refused, even on a loaded machine. */
const HOLD_MS = 25;

for (const path of ['splice', 'js'] as const) {
  describe(`userspace ${path} path: an endpoint that refuses`, { skip: path === 'splice' && !loadLibc() ? 'koffi is not available' : false }, () => {
    const closers: (() => unknown)[] = [];
    after(async () => {
      for (const c of closers.reverse()) await c();
    });

    it('client bytes that arrive between a refused dial and the next one are delivered', async () => {
      const p = net127();
      const port = randomPort();
      const bport = randomPort();
      const vip = `${p}.1`;
      const srv = await echo(`${p}.101`, bport);
      closers.push(() => closeServer(srv));
      // no passive ejection: the refusing endpoint stays in the rotation, every other dial is refused
      const h = new Harness({}, { bulkPath: path, ejectionMs: 0 });
      closers.push(() => h.close());
      // .102 listens nowhere: a dial to it is refused at once (loopback answers with a reset)
      await h.apply(
        service({ name: 'half', clusterIP: vip, port }),
        slice('half', [
          { ip: `${p}.101`, port: bport },
          { ip: `${p}.102`, port: bport },
        ]),
      );
      assert.equal(await h.dataplane.bulkPathReady(), path);
      // Splice path: right after main hands a client to the pump (and queues the pump's wake-up),
      // queue the hold behind that wake-up, in the same turn.
      let onHandOver: (() => void) | null = null;
      if (path === 'splice') {
        const engine = (h.dataplane as unknown as { engine: { dial: (...a: unknown[]) => number } }).engine;
        const dial = engine.dial.bind(engine);
        engine.dial = (...a: unknown[]) => {
          const id = dial(...a);
          const then = onHandOver;
          onHandOver = null;
          if (then) setImmediate(then);
          return id;
        };
      }
      const retries = await h.metric('kproxy_userspace_retries_total');
      const failures: string[] = [];
      for (let i = 0; i < CONNECTIONS; i++) {
        const text = `hello ${i}\n`;
        const s = net.connect({ host: vip, port, allowHalfOpen: true });
        s.setEncoding('utf8');
        let got = '';
        s.on('data', (d) => (got += d));
        const answer = new Promise<string>((resolve) => {
          s.on('end', () => resolve(got));
          s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
        });
        const sent = new Promise<boolean>((resolve) => {
          const go = () => {
            const direct = !s.connecting; // else the write would wait in Node until after the hold
            hold(HOLD_MS); // the pump dials; refused, it waits for main's next word, and main is held
            s.write(text); // to the kernel at once (nothing queued on this socket)
            hold(HOLD_MS); // the pump sees the bytes with no backend connected
            s.end();
            resolve(direct);
          };
          if (path === 'splice') onHandOver = go;
          else s.once('connect', () => setImmediate(go));
        });
        assert.ok(await sent, 'the client was connected when it wrote');
        const a = await answer;
        if (a !== text) failures.push(a || '(closed without an answer)');
        s.destroy();
      }
      const retried = (await h.metric('kproxy_userspace_retries_total')) - retries;
      // the case was there to lose: about every other connection was first sent to the endpoint that refuses
      assert.ok(retried >= CONNECTIONS / 4, `${retried} dials were refused and retried`);
      assert.deepEqual(failures, [], `${failures.length} of ${CONNECTIONS} clients lost their bytes (${retried} dials refused)`);
    });
  });
}
