// Runs inside l2-responder.test.ts's namespace (it checks): starts the layer-2 responder for
// one IPv4 address, in the order the LoadBalancer add-on uses (start, then the addresses at
// once) or, with "table-first", the addresses before start; says "ready" once start() has
// resolved. On "stop" from stdin it prints the responder's counters as JSON (after the
// worker's next report) and exits.
import { createInterface } from 'node:readline';
import { L2Responder } from '../../src/lb/l2/responder.js';
import { silentLogger } from '../../src/util/log.js';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();

const [ip, order] = process.argv.slice(2);
const responder = new L2Responder(silentLogger());
const table = () => responder.setAddresses([{ ip, family: 'IPv4', interfaces: [] }]);
if (order === 'table-first') table();
const started = responder.start();
if (order !== 'table-first') table();
await started;
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'stop') continue;
  await new Promise((r) => setTimeout(r, 1200)); // the worker reports counters every 500 ms
  process.stdout.write(JSON.stringify(responder.counters) + '\n');
  await responder.close();
  process.exit(0);
}
