// The Service tables: writes compiled entries into one family's maps incrementally and in an
// order that no reader can catch half-done:
//   1. a changed Service's new backends are written under a fresh set id (unseen by readers),
//   2. the Service element is switched to the new set in one element update,
//   3. the old set and removed Services are deleted.
// The same code runs against kernel maps (apply.ts) and in-memory maps (`kproxy rules`,
// `kproxy trace`, unit tests), so what is printed is what is loaded.
import { addressKey, sameEntry, type SocketService } from './compile.js';
import {
  BE_KEY,
  beKey,
  beValueSize,
  FLAG_DROP,
  FLAG_REJECT,
  memKey,
  memKeySize,
  PROTO,
  protoName,
  readAddrPort,
  readSvcValue,
  SVC_VALUE,
  svcKey,
  svcKeySize,
  writeAddrPort,
  writeSvcValue,
  type Family,
  type MapRole,
} from './layout.js';

/** What the tables need of a map: kernel maps (BpfMap) and MemoryMap both provide it. */
export interface MapLike {
  update(key: Buffer, value: Buffer): void;
  /** `count` elements back to back in `keys` and `values`. */
  updateBatch(keys: Buffer, values: Buffer, count: number): void;
  lookup(key: Buffer): Buffer | null;
  delete(key: Buffer): boolean;
  entries(): [Buffer, Buffer][];
}

export class MemoryMap implements MapLike {
  private readonly m = new Map<string, [Buffer, Buffer]>();
  update(key: Buffer, value: Buffer): void {
    this.m.set(key.toString('hex'), [Buffer.from(key), Buffer.from(value)]);
  }
  updateBatch(keys: Buffer, values: Buffer, count: number): void {
    const ks = keys.length / Math.max(count, 1);
    const vs = values.length / Math.max(count, 1);
    for (let i = 0; i < count; i++) this.update(keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs));
  }
  lookup(key: Buffer): Buffer | null {
    return this.m.get(key.toString('hex'))?.[1] ?? null;
  }
  delete(key: Buffer): boolean {
    return this.m.delete(key.toString('hex'));
  }
  entries(): [Buffer, Buffer][] {
    return [...this.m.values()];
  }
  get size(): number {
    return this.m.size;
  }
}

export type FamilyMaps = Record<MapRole, MapLike>;

/** A Service as programmed: its entry and the ids it was given. */
export interface Programmed {
  entry: SocketService;
  svcId: number;
  setId: number;
}

export interface ApplyCounts {
  services: number;
  backends: number;
  deleted: number;
}

export class ServiceTables {
  /** By addressKey. */
  private readonly programmed = new Map<string, Programmed>();
  /** ServicePortState key → addressKey. */
  private readonly byKey = new Map<string, string>();
  private nextSvcId = 1;
  private nextSetId = 1;

  constructor(private readonly maps: Record<Family, FamilyMaps>) {}

  /** Picks up what a previous kproxy left in (pinned) maps, so the first sync is a diff. */
  adopt(): number {
    for (const f of ['4', '6'] as Family[]) {
      const m = this.maps[f];
      for (const [k, v] of m.services.entries()) {
        const a = readAddrPort(k, f);
        const proto = protoName(a.extra);
        const sv = readSvcValue(v);
        if (!proto) {
          m.services.delete(k);
          continue;
        }
        const backends = [];
        for (let slot = 0; slot < sv.count; slot++) {
          const b = m.backends.lookup(beKey(sv.setId, slot));
          if (b) backends.push(readAddrPort(b, f));
        }
        const entry: SocketService = {
          key: '',
          servicePortName: '',
          family: f,
          proto,
          ip: a.ip,
          port: a.port,
          backends: backends.map((b) => ({ ip: b.ip, port: b.port })),
          affinitySeconds: sv.affinitySeconds,
          noEndpoints: sv.count > 0 ? null : sv.flags & FLAG_DROP ? 'drop' : 'reject',
        };
        this.programmed.set(addressKey(entry), { entry, svcId: sv.svcId, setId: sv.setId });
        this.nextSvcId = Math.max(this.nextSvcId, sv.svcId + 1);
        this.nextSetId = Math.max(this.nextSetId, sv.setId + 1);
      }
      // Backends and members of sets no Service points at (a kproxy stopped between steps 1 and 3).
      const live = new Set([...this.programmed.values()].filter((p) => p.entry.family === f).map((p) => p.setId));
      for (const role of ['backends', 'members'] as const) {
        for (const [k] of m[role].entries()) {
          const setId = k.readUInt32LE(0);
          this.nextSetId = Math.max(this.nextSetId, setId + 1);
          if (!live.has(setId)) m[role].delete(k);
        }
      }
    }
    return this.programmed.size;
  }

  /** Every programmed Service, sorted by family, address, port and protocol. */
  list(): Programmed[] {
    return [...this.programmed.values()].sort((a, b) => cmp(a.entry, b.entry));
  }

  lookup(family: Family, proto: SocketService['proto'], ip: string, port: number): Programmed | null {
    return this.programmed.get(addressKey({ family, proto, ip, port })) ?? null;
  }

  /** Makes the maps hold exactly `entries` (a full sync). */
  applyAll(entries: readonly SocketService[]): ApplyCounts {
    const want = new Set(entries.map(addressKey));
    const gone = [...this.programmed.keys()].filter((k) => !want.has(k));
    this.byKey.clear();
    return this.apply(entries, gone);
  }

  /**
   * A partial sync: `changed` are the entries of changed service ports; `removedKeys` the
   * ServicePortState keys that were deleted or no longer have a socket-level entry.
   */
  applyChanges(changed: readonly SocketService[], removedKeys: Iterable<string>): ApplyCounts {
    const gone: string[] = [];
    for (const k of removedKeys) {
      const ak = this.byKey.get(k);
      if (ak !== undefined) gone.push(ak);
    }
    // A service port whose ClusterIP, port or protocol changed leaves its old address behind.
    for (const e of changed) {
      const old = this.byKey.get(e.key);
      if (old !== undefined && old !== addressKey(e)) gone.push(old);
    }
    return this.apply(changed, gone);
  }

  private apply(upserts: readonly SocketService[], gone: readonly string[]): ApplyCounts {
    const counts: ApplyCounts = { services: 0, backends: 0, deleted: 0 };
    const writes = { '4': new Writes('4'), '6': new Writes('6') };
    const retired: Programmed[] = [];
    const next: [string, Programmed][] = [];
    for (const e of upserts) {
      const ak = addressKey(e);
      const old = this.programmed.get(ak);
      if (old && sameEntry(old.entry, e)) {
        old.entry = e;
        this.byKey.set(e.key, ak);
        continue;
      }
      const setId = this.nextSetId++;
      const svcId = old?.svcId ?? this.nextSvcId++;
      const f = e.family;
      const w = writes[f];
      for (let slot = 0; slot < e.backends.length; slot++) {
        const b = e.backends[slot];
        const be = w.backends.add();
        be.k.writeUInt32LE(setId, be.ko);
        be.k.writeUInt32LE(slot, be.ko + 4);
        writeAddrPort(be.v, be.vo, b.ip, b.port, f);
        if (e.affinitySeconds > 0) {
          const m = w.members.add();
          m.k.writeUInt32LE(setId, m.ko);
          writeAddrPort(m.k, m.ko + 4, b.ip, b.port, f);
          m.v.writeUInt32LE(slot, m.vo);
        }
      }
      const flags = e.noEndpoints === 'drop' ? FLAG_DROP : e.noEndpoints === 'reject' ? FLAG_REJECT : 0;
      const sv = w.services.add();
      writeAddrPort(sv.k, sv.ko, e.ip, e.port, f, PROTO[e.proto]);
      writeSvcValue(sv.v, sv.vo, { svcId, setId, count: e.backends.length, affinitySeconds: e.affinitySeconds, flags });
      if (old) retired.push(old);
      next.push([ak, { entry: e, svcId, setId }]);
      counts.services++;
      counts.backends += e.backends.length;
    }
    // 1. new sets; 2. Services switch to them.
    for (const f of ['4', '6'] as Family[]) {
      const m = this.maps[f];
      const w = writes[f];
      for (const role of ['backends', 'members', 'services'] as const) {
        const p = w[role];
        m[role].updateBatch(p.keys.subarray(0, p.count * p.keySize), p.values.subarray(0, p.count * p.valueSize), p.count);
      }
    }
    for (const [ak, p] of next) {
      this.programmed.set(ak, p);
      this.byKey.set(p.entry.key, ak);
    }
    // 3. Services that are gone, then the sets nothing points at any more.
    const rewritten = new Set(upserts.map(addressKey));
    for (const ak of gone) {
      const p = this.programmed.get(ak);
      if (!p || rewritten.has(ak)) continue;
      this.maps[p.entry.family].services.delete(svcKey(p.entry.ip, p.entry.port, p.entry.proto, p.entry.family));
      this.programmed.delete(ak);
      if (this.byKey.get(p.entry.key) === ak) this.byKey.delete(p.entry.key);
      retired.push(p);
      counts.deleted++;
    }
    for (const p of retired) this.deleteSet(p);
    return counts;
  }

  private deleteSet(p: Programmed): void {
    const m = this.maps[p.entry.family];
    p.entry.backends.forEach((b, slot) => {
      m.backends.delete(beKey(p.setId, slot));
      if (p.entry.affinitySeconds > 0) m.members.delete(memKey(p.setId, b.ip, b.port, p.entry.family));
    });
  }
}

/** Elements to write, back to back in two growing buffers (one batch call per map). */
class Pairs {
  keys: Buffer;
  values: Buffer;
  count = 0;
  private readonly slot: { k: Buffer; ko: number; v: Buffer; vo: number } = { k: Buffer.alloc(0), ko: 0, v: Buffer.alloc(0), vo: 0 };

  constructor(
    readonly keySize: number,
    readonly valueSize: number,
  ) {
    this.keys = Buffer.alloc(keySize * 16);
    this.values = Buffer.alloc(valueSize * 16);
  }

  /** Room for one more element: where to write its key and value (valid until the next add). */
  add(): { k: Buffer; ko: number; v: Buffer; vo: number } {
    if ((this.count + 1) * this.keySize > this.keys.length) {
      this.keys = grow(this.keys);
      this.values = grow(this.values);
    }
    const s = this.slot;
    s.k = this.keys;
    s.ko = this.count * this.keySize;
    s.v = this.values;
    s.vo = this.count * this.valueSize;
    this.count++;
    return s;
  }
}

function grow(b: Buffer): Buffer {
  const n = Buffer.alloc(b.length * 2);
  b.copy(n);
  return n;
}

class Writes {
  readonly backends: Pairs;
  readonly members: Pairs;
  readonly services: Pairs;
  constructor(f: Family) {
    this.backends = new Pairs(BE_KEY, beValueSize(f));
    this.members = new Pairs(memKeySize(f), 4);
    this.services = new Pairs(svcKeySize(f), SVC_VALUE);
  }
}

function cmp(a: SocketService, b: SocketService): number {
  if (a.family !== b.family) return a.family < b.family ? -1 : 1;
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  if (a.port !== b.port) return a.port - b.port;
  return a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0;
}

export function memoryMaps(): Record<Family, FamilyMaps> {
  const fam = (): FamilyMaps => ({ services: new MemoryMap(), backends: new MemoryMap(), members: new MemoryMap(), affinity: new MemoryMap(), revnat: new MemoryMap() });
  return { '4': fam(), '6': fam() };
}
