// Whether kproxy runs in a network namespace of its own (a test's, a node's sandbox) rather
// than the host's. kproxy changes network settings (addresses, sysctls) only in the former.
import { readdirSync, statSync } from 'node:fs';

/**
 * Whether this process runs in a network namespace other than the host's: one that differs
 * from init's (PID 1's), or, where PID 1's is not readable (containers without
 * CAP_SYS_PTRACE), one that `ip netns add` created (listed in /run/netns). When neither can
 * be shown, the answer is no: kproxy then never adds addresses.
 */
export function inOwnNetns(): boolean {
  let self: number;
  try {
    self = statSync('/proc/self/ns/net').ino;
  } catch {
    return false;
  }
  try {
    return self !== statSync('/proc/1/ns/net').ino;
  } catch {
    // PID 1's namespace is hidden from us: fall through to the named namespaces
  }
  try {
    return readdirSync('/run/netns').some((n) => {
      try {
        return statSync(`/run/netns/${n}`).ino === self;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
