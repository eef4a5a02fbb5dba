// The benchmark's measurements, each against one address and port.
import net from 'node:net';

function connect(host: string, port: number, localAddress?: string, onread?: net.OnReadOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress, noDelay: true, onread } as net.NetConnectOpts);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Bulk download for `ms`: Gbit/s. Reads into one reused buffer, so the client costs little. */
export async function bulk(host: string, port: number, ms: number): Promise<number> {
  let bytes = 0;
  const s = await connect(host, port, undefined, {
    buffer: Buffer.alloc(1 << 18),
    callback: (n) => {
      bytes += n;
      return true;
    },
  });
  s.on('error', () => {});
  await new Promise((r) => setTimeout(r, 300)); // warm-up
  const b0 = bytes;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const b1 = bytes;
  const t1 = process.hrtime.bigint();
  s.destroy();
  return ((b1 - b0) * 8) / Number(t1 - t0); // bits per ns = Gbit/s
}

/** Request/response of 64 bytes on one persistent connection: [p50, p99] in microseconds. */
export async function latency(host: string, port: number, requests: number): Promise<[number, number]> {
  const s = await connect(host, port);
  const msg = Buffer.alloc(64, 1);
  const samples = new Float64Array(requests);
  let got = 0;
  let i = -200; // warm-up requests
  let t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got < msg.length) return;
      got = 0;
      if (i >= 0) samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (++i >= requests) return resolve();
      t0 = process.hrtime.bigint();
      s.write(msg);
    });
    s.write(msg);
  });
  s.destroy();
  samples.sort();
  return [samples[Math.floor(requests * 0.5)], samples[Math.floor(requests * 0.99)]];
}

/** New connections per second for `ms`: connect, 1-byte request and reply, close; `parallel` at once. */
export async function connRate(host: string, port: number, ms: number, parallel: number, sources: string[]): Promise<number> {
  let done = 0;
  let errors = 0;
  let stop = false;
  const one = (src: string) =>
    new Promise<void>((resolve) => {
      const s = net.connect({ host, port, localAddress: src, noDelay: true });
      s.once('connect', () => s.write('x'));
      s.once('data', () => {
        done++;
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        errors++;
        s.destroy();
        resolve();
      });
    });
  const worker = async (k: number) => {
    while (!stop) await one(sources[k % sources.length]);
  };
  const t0 = Date.now();
  const timer = setTimeout(() => (stop = true), ms);
  await Promise.all(Array.from({ length: parallel }, (_, k) => worker(k)));
  clearTimeout(timer);
  if (errors > done / 100) throw new Error(`${errors} failed connections to ${host}:${port}`);
  return (done * 1000) / (Date.now() - t0);
}

/** Exactly `n` connections as connRate makes them, `parallel` at once: how many succeeded. */
export async function connCount(host: string, port: number, parallel: number, sources: string[], n: number): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async (k: number) => {
    while (next++ < n)
      await new Promise<void>((resolve) => {
        const s = net.connect({ host, port, localAddress: sources[k % sources.length], noDelay: true });
        s.once('connect', () => s.write('x'));
        s.once('data', () => (done++, s.destroy(), resolve()));
        s.once('error', () => (s.destroy(), resolve()));
      });
  };
  await Promise.all(Array.from({ length: parallel }, (_, k) => worker(k)));
  return done;
}

/** Opens `n` idle connections (they answer one echo each, so each is really proxied). */
export async function openIdle(host: string, port: number, n: number, sources: string[]): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      const s = await connect(host, port, sources[k % sources.length]);
      s.on('error', () => {});
      await new Promise<void>((r) => {
        s.once('data', () => r());
        s.write('x');
      });
      out.push(s);
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  return out;
}
