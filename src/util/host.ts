// Facts about the machine kproxy runs on.
import { hostname, networkInterfaces } from 'node:os';

/** The node name: --hostname-override, else the machine's hostname, lower-cased as kubelet does. */
export function nodeName(override: string): string {
  return (override || hostname()).trim().toLowerCase();
}

/** The machine's non-loopback addresses, IPv4 first. */
export function machineAddresses(): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!a.address.startsWith('fe80:')) v6.push(a.address);
    }
  }
  return [...v4, ...v6];
}
