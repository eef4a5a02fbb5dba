// The iptables benchmark's worker, run inside the node namespace (it checks). argv: MODE
// (iptables-nft | iptables-legacy | nftables), SIZES, ENDPOINTS, LATENCY_SIZE (0 = every size).
// One JSON line per size (measure.ts); at the latency size it prints {"ready":N,"latency":[a,b]}
// and waits for a line on stdin while the parent measures first-packet latency to Services a
// and b. Everything it installed is removed before it exits.
import { createInterface } from 'node:readline';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';
import { iptablesMode, measureSize, nftablesMode, type Mode } from './measure.js';

assertInTestNetns();

const [mode, sizesText, endpointsText, latencySizeText] = process.argv.slice(2);
const sizes = sizesText.split(',').map(Number);
const E = Number(endpointsText);
const latencySize = Number(latencySizeText);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PARTIALS = Number(process.env.PARTIALS ?? 5);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise<string>((r) => stdin.once('line', r));

const m: Mode = mode === 'nftables' ? nftablesMode() : iptablesMode(mode === 'iptables-legacy' ? 'legacy' : 'nft');
for (const n of sizes) {
  const result = await measureSize(mode, m, n, E, ROUNDS, PARTIALS);
  process.stdout.write(JSON.stringify(result) + '\n');
  if (n === latencySize || latencySize === 0) {
    process.stdout.write(JSON.stringify({ ready: n, mode, latency: result.latencyServices }) + '\n');
    await nextLine();
  }
  await m.clean();
}
stdin.close();
