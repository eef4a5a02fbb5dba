// Every process the bench starts inside a namespace calls this first: it refuses to run
// unless /proc/self/ns/net is one of the namespaces the bench (or a kernel test) created,
// listed by name in KPROXY_TEST_NETNS. Outside them its packets would leave through the
// host's default route, and its rules would land in the host's tables.
import { statSync } from 'node:fs';

export const NETNS_ENV = 'KPROXY_TEST_NETNS';

/** Whether this process runs in one of the named namespaces (by the inode of its netns). */
export function inNamedNetns(names: readonly string[]): boolean {
  let self: number;
  try {
    self = statSync('/proc/self/ns/net').ino;
  } catch {
    return false;
  }
  return names.some((n) => {
    try {
      return statSync(`/run/netns/${n}`).ino === self;
    } catch {
      return false; // namespace gone: not ours any more
    }
  });
}

export function assertInTestNetns(): void {
  const names = (process.env[NETNS_ENV] ?? '').split(',').filter(Boolean);
  if (inNamedNetns(names)) return;
  process.stderr.write(`netns-guard: refusing to run: not inside one of the test's network namespaces (${names.join(', ') || 'none given'})\n`);
  process.exit(3);
}
