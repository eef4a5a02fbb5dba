// What `kproxy rules` and `kproxy trace` see of the ebpf mode: the maps a full sync of a
// state produces, built by the same Service tables as the kernel applier, in memory.
import type { ProxyState } from '../../model/types.js';
import { compile } from './compile.js';
import { decode, renderMaps, type DecodedService } from './decode.js';
import { memoryMaps, ServiceTables } from './tables.js';

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

export interface CompiledMaps {
  services: DecodedService[];
  /** "ip:port/PROTO" → ServicePortName. */
  names: Map<string, string>;
}

export function compiledMaps(state: ProxyState): CompiledMaps {
  const maps = memoryMaps();
  const entries = compile(state);
  new ServiceTables(maps).applyAll(entries);
  return { services: decode(maps), names: new Map(entries.map((e) => [`${hostPort(e.ip, e.port)}/${e.proto}`, e.servicePortName])) };
}

export function mapsText(state: ProxyState): string {
  const c = compiledMaps(state);
  return renderMaps(c.services, c.names);
}
