// The layer-2 responder answers from its very first moment: an ARP request that reaches it
// while its worker is still starting is answered, not dropped. Two fresh namespaces on one
// veth pair: the responder's side owns 10.77.0.100 (on no interface: only the responder
// answers for it); the client's side asks once, and asks again only 30 s later.
// The client's datagram goes to 10.77.0.100 inside the client's own namespace (`ip netns exec`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exec, kernelSkipReason } from './harness.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'l2-responder-child.js');
const skip = kernelSkipReason(['ip', 'bash']);
const ADDRESS = '10.77.0.100';

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

for (const order of ['start-first', 'table-first'] as const)
  test(
    `an ARP request that arrives as the responder starts is answered (${order === 'table-first' ? 'addresses given before start' : 'addresses given right after start, as the add-on does'})`,
    { skip: skip ?? false },
    async () => {
      const [a, b] = [`k15l2a-${process.pid}`, `k15l2b-${process.pid}`];
      await must('ip', ['netns', 'add', a]);
      await must('ip', ['netns', 'add', b]);
      let child: ReturnType<typeof spawn> | null = null;
      try {
        await must('ip', ['link', 'add', 'eth-a', 'netns', a, 'type', 'veth', 'peer', 'name', 'eth-b', 'netns', b]);
        for (const [ns, dev, ip] of [
          [a, 'eth-a', '10.77.0.1/24'],
          [b, 'eth-b', '10.77.0.2/24'],
        ]) {
          await must('ip', ['-n', ns, 'addr', 'add', ip, 'dev', dev]);
          await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
          await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        }
        // The client asks once, and not again for 30 s; it learns a MAC from a gratuitous ARP
        // only for an address it is already asking about (arp_accept 0, written out: a new
        // namespace inherits the host's value).
        await must('ip', ['-n', b, 'neigh', 'flush', 'dev', 'eth-b']);
        await must('ip', ['netns', 'exec', b, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_accept=0', 'net.ipv4.conf.eth-b.arp_accept=0', 'net.ipv4.neigh.eth-b.retrans_time_ms=30000']);
        const macA = (await must('ip', ['-n', a, '-j', 'link', 'show', 'eth-a'])).match(/"address":"([0-9a-f:]{17})"/)![1];

        child = spawn('ip', ['netns', 'exec', a, process.execPath, CHILD, ADDRESS, order], { env: { ...process.env, KPROXY_TEST_NETNS: a }, stdio: ['pipe', 'pipe', 'inherit'] });
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        assert.equal((await lines.next()).value, 'ready');
        // At once, while the worker has just opened its sockets: one UDP datagram (bash's
        // /dev/udp) from the client's namespace, which starts with an ARP request.
        await must('ip', ['netns', 'exec', b, 'bash', '-c', `echo x > /dev/udp/${ADDRESS}/9`]);
        const mac = async () => (JSON.parse(await must('ip', ['-n', b, '-j', 'neigh', 'show', ADDRESS, 'dev', 'eth-b'])) as { lladdr?: string }[])[0]?.lladdr;
        for (let i = 0; i < 30 && (await mac()) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(await mac(), macA, `the client has the responder's MAC for ${ADDRESS}`);
        child.stdin!.write('stop\n');
        const counters = JSON.parse((await lines.next()).value as string) as Record<string, { requestsReceived: number; responsesSent: number }>;
        assert.ok((counters[ADDRESS]?.requestsReceived ?? 0) >= 1, `the request was seen: ${JSON.stringify(counters)}`);
        assert.ok((counters[ADDRESS]?.responsesSent ?? 0) >= 1, `and answered (not learnt from a later gratuitous ARP): ${JSON.stringify(counters)}`);
        await once(child, 'exit');
        child = null;
      } finally {
        child?.kill();
        await exec('ip', ['netns', 'del', a]);
        await exec('ip', ['netns', 'del', b]);
      }
    },
  );
