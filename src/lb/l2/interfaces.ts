// The node's Ethernet interfaces (name, index, MAC), read from /sys/class/net, which
// `ip netns exec` and container runtimes mount for the process's own network namespace.
import { readdirSync, readFileSync } from 'node:fs';

export interface LinkInfo {
  name: string;
  ifindex: number;
  mac: string;
  up: boolean;
}

const ARPHRD_ETHER = 1;
const IFF_UP = 1;

export function ethernetLinks(root = '/sys/class/net'): LinkInfo[] {
  const out: LinkInfo[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const read = (f: string) => readFileSync(`${root}/${name}/${f}`, 'utf8').trim();
      if (Number(read('type')) !== ARPHRD_ETHER) continue;
      const mac = read('address');
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || mac === '00:00:00:00:00:00') continue;
      out.push({ name, ifindex: Number(read('ifindex')), mac, up: (Number(read('flags')) & IFF_UP) !== 0 });
    } catch {
      // the link went away while we read it
    }
  }
  return out;
}
