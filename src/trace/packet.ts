// The packet a trace walks, from the words a user gave (the CLI's flags, the dashboard's
// form): each bad value is a ConfigError naming its field.
import { parseIP } from '../api/ip.js';
import { ConfigError } from '../util/errors.js';
import type { Packet, Protocol } from './result.js';

function port(text: unknown, flag: string, min: number): number {
  const s = String(text);
  const n = /^\d+$/.test(s) ? parseInt(s, 10) : NaN;
  if (!(n >= min && n <= 65535)) throw new ConfigError(flag, `"${s}" is not a port (${min}-65535)`);
  return n;
}

export function packetFrom(opts: Record<string, unknown>): Packet {
  const src = parseIP(String(opts.src));
  const dst = parseIP(String(opts.dst));
  if (!src) throw new ConfigError('--src', `"${opts.src}" is not an IP address`);
  if (!dst) throw new ConfigError('--dst', `"${opts.dst}" is not an IP address`);
  if (src.family !== dst.family) throw new ConfigError('--src', `${src.ip} and ${dst.ip} are of different IP families`);
  const protocol = String(opts.protocol ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw new ConfigError('--protocol', `"${opts.protocol}": expected tcp, udp or sctp`);
  return { family: src.family, protocol: protocol as Protocol, src: src.ip, dst: dst.ip, dport: port(opts.dport, '--dport', 1), sport: port(opts.sport ?? 0, '--sport', 0) };
}
