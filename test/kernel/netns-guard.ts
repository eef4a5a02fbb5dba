// Every process the kernel harness starts inside a namespace calls this first: it refuses to
// run unless /proc/self/ns/net is one of the harness's own network namespaces (listed in
// KPROXY_TEST_NETNS). Outside them its packets would leave through the host's default route.
import { statSync } from 'node:fs';

export function assertInTestNetns(): void {
  const names = (process.env.KPROXY_TEST_NETNS ?? '').split(',').filter(Boolean);
  let self: number;
  try {
    self = statSync('/proc/self/ns/net').ino;
  } catch {
    refuse('cannot read /proc/self/ns/net');
  }
  for (const n of names) {
    try {
      if (statSync(`/run/netns/${n}`).ino === self) return;
    } catch {
      // namespace gone: not ours any more
    }
  }
  refuse(`not inside one of the test's network namespaces (${names.join(', ') || 'none given'})`);
}

function refuse(why: string): never {
  process.stderr.write(`netns-guard: refusing to run: ${why}\n`);
  process.exit(3);
}
