// Whether this process may change the network configuration (CAP_NET_ADMIN, which root has).
import { readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12n;

export function hasNetAdmin(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return ((BigInt('0x' + m[1]) >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    // no /proc: fall back to the user id
  }
  return process.getuid?.() === 0;
}
