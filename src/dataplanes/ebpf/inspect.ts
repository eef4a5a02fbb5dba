// What `kproxy rules`, `kproxy trace` and the /rules page see of the ebpf mode: the decoded
// Service maps, then the nftables ruleset of the external entry points after a marker line.
// For `kproxy rules` the maps are those a full sync produces, built by the same Service tables
// as the kernel applier, in memory.
import type { ProxyState } from '../../model/types.js';
import { compile, type SocketService } from './compile.js';
import { decode, NFT_PART_MARKER, renderMaps, type DecodedService } from './decode.js';
import { northSouthState } from './northsouth.js';
import { memoryMaps, ServiceTables } from './tables.js';

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** "ip:port/PROTO" → ServicePortName. */
export const namesOf = (entries: readonly SocketService[]): Map<string, string> =>
  new Map(entries.filter((e) => e.servicePortName).map((e) => [`${hostPort(e.ip, e.port)}/${e.proto}`, e.servicePortName]));

export function compiledMaps(state: ProxyState): { services: DecodedService[]; names: Map<string, string> } {
  const maps = memoryMaps();
  const entries = compile(state);
  new ServiceTables(maps).applyAll(entries);
  return { services: decode(maps), names: namesOf(entries) };
}

export function joinRulesText(services: readonly DecodedService[], names: ReadonlyMap<string, string>, nftText: string): string {
  return renderMaps(services, names) + `\n${NFT_PART_MARKER}\n` + nftText;
}

/** The ebpf mode's ruleset text; `nft` compiles the nftables part from the north-south state. */
export function rulesText(state: ProxyState, nft: (s: ProxyState) => string): string {
  const c = compiledMaps(state);
  return joinRulesText(c.services, c.names, nft(northSouthState(state)));
}
