// The kproxy DNS server under benchmark, in a process of its own (forked by bench.ts) so
// that its RSS and CPU are its own. Reports RSS with the model loaded but no DNS, with the
// DNS zone built, and (on request) after the benchmark filled the prepared answers.
import { DnsServer } from '../../src/dns/server.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { benchServices, serviceObject } from './cluster.js';

const [count, address] = [Number(process.argv[2] ?? 10000), process.argv[3] ?? '127.0.0.3:0'];

function rssMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

const tracker = new ChangeTracker({ nodeName: 'bench-node' });
for (const s of benchServices(count)) tracker.upsert(serviceObject(s));
const state = tracker.snapshot();
const server = new DnsServer({ zone: 'cluster.local', ttl: 5 });
const bound = await server.listen(address);
const rssModel = rssMB();
const t0 = performance.now();
server.update(state);
const buildMs = performance.now() - t0;
const rssZone = rssMB();
process.send!({ kind: 'ready', port: bound.port, rssModel, rssZone, buildMs, names: server.zone.size });
process.on('message', (m: { kind: string }) => {
  if (m.kind === 'rss') process.send!({ kind: 'rss', rss: rssMB() });
  if (m.kind === 'stop') void server.close().then(() => process.exit(0));
});
