// The zone: every name kproxy answers for, with its records, kept up to date incrementally
// from the model's DNS view (ProxyState.dns). Only Services whose view changed are rebuilt; the
// prepared answers of untouched names survive a sync.
//
// Names are held by their wire key (lower-case wire form as a latin1 string), the same key
// the query parser computes, so a lookup is one Map.get.
import type { DnsService } from '../model/dns.js';
import type { ProxyState } from '../model/types.js';
import { nameToKey } from './query.js';
import { serviceRecords } from './records.js';
import { labelsOf, type ResourceRecord } from './wire.js';
import type { Prepared } from './prepared.js';

/** The schema version of the Kubernetes DNS specification this server implements. */
export const SCHEMA_VERSION = '1.1.0';

/** An apex kproxy is authoritative for: the cluster domain, or a reverse zone. */
export interface Apex {
  name: string;
  key: string;
  soa: ResourceRecord;
}

export interface NameEntry {
  name: string;
  apex: Apex;
  /** Records at this name (which Service owns each is in the zone's `owned` table). */
  records: ResourceRecord[];
  /** Records strictly below this name: a name with none of its own but some below exists (empty non-terminal). */
  below: number;
  /** Prepared answers by query type, filled on first use, dropped when the records change. */
  prepared: Map<number, Prepared | null> | null;
}

interface Owned {
  view: DnsService;
  records: ResourceRecord[];
}

export interface ZoneOptions {
  zone: string;
  ttl: number;
  /** Addresses of the DNS server itself, published as ns.dns.<zone>. */
  serverAddresses?: readonly ResourceRecord['data'][];
}

export class Zone {
  readonly cluster: Apex;
  readonly reverseV4: Apex;
  readonly reverseV6: Apex;
  private readonly names = new Map<string, NameEntry>();
  private readonly owned = new Map<string, Owned>();
  private readonly ttl: number;

  constructor(private readonly opts: ZoneOptions) {
    this.ttl = opts.ttl;
    const z = opts.zone.toLowerCase();
    this.cluster = this.apex(z);
    this.reverseV4 = this.apex('in-addr.arpa');
    this.reverseV6 = this.apex('ip6.arpa');
    const own = (rr: ResourceRecord) => this.add(rr);
    own(this.cluster.soa);
    own({ name: z, ttl: this.ttl, data: { type: 2, target: `ns.dns.${z}` } });
    own({ name: `dns-version.${z}`, ttl: this.ttl, data: { type: 16, text: SCHEMA_VERSION } });
    for (const d of opts.serverAddresses ?? []) own({ name: `ns.dns.${z}`, ttl: this.ttl, data: d });
  }

  private apex(name: string): Apex {
    const soa: ResourceRecord = {
      name,
      ttl: this.ttl,
      data: {
        type: 6,
        mname: `ns.dns.${this.opts.zone.toLowerCase()}`,
        rname: `hostmaster.${this.opts.zone.toLowerCase()}`,
        serial: Math.floor(Date.now() / 1000) >>> 0,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        // RFC 2308: negative answers live min(SOA TTL, minimum): the record TTL.
        minimum: this.ttl,
      },
    };
    return { name, key: nameToKey(name), soa };
  }

  get(key: string): NameEntry | undefined {
    return this.names.get(key);
  }

  /** Number of names held (for metrics and the memory benchmark). */
  get size(): number {
    return this.names.size;
  }

  /** Brings the zone up to date with a new ProxyState. Returns whether anything changed. */
  update(state: ProxyState): boolean {
    let changed = false;
    for (const [id, view] of state.dns) {
      const old = this.owned.get(id);
      if (old && old.view === view) continue; // the model shares unchanged views between snapshots
      // A copy of exactly its length: an array filled by push() keeps room for 17 (see add).
      const records = serviceRecords(view, { zone: this.opts.zone, ttl: this.ttl }).slice();
      if (old) this.removeAll(old.records);
      let grown: Set<NameEntry> | null = null;
      for (const rr of records) {
        const e = this.add(rr);
        if (e && e.records.length > 1) (grown ??= new Set()).add(e);
      }
      for (const e of grown ?? []) e.records = e.records.slice();
      this.owned.set(id, { view, records });
      changed = true;
    }
    for (const [id, old] of this.owned) {
      if (state.dns.has(id)) continue;
      this.removeAll(old.records);
      this.owned.delete(id);
      changed = true;
    }
    return changed;
  }

  private apexOf(name: string): Apex | null {
    for (const a of [this.cluster, this.reverseV4, this.reverseV6]) if (name === a.name || name.endsWith(`.${a.name}`)) return a;
    return null;
  }

  /**
   * Adds one record at its name; returns the name's entry. A name's first record makes an
   * array of one: push() into an empty array makes room for 17, ~130 bytes more for each of
   * the zone's names (4 MB at 10,000 Services). update() trims names that got more.
   */
  private add(rr: ResourceRecord): NameEntry | null {
    const apex = this.apexOf(rr.name);
    if (!apex) return null; // a name outside every zone (cannot happen with a valid cluster domain)
    const e = this.entry(rr.name, apex);
    if (e.records.length === 0) e.records = [rr];
    else e.records.push(rr);
    e.prepared = null;
    // Reverse zones are not ours below their apex: only exact PTR names are answered there,
    // so their ancestors are not tracked as empty non-terminals.
    if (apex !== this.cluster) return e;
    for (const a of ancestors(rr.name, apex.name)) this.entry(a, apex).below++;
    return e;
  }

  /** Removes one Service's records: one pass per name, however many records it holds there. */
  private removeAll(records: readonly ResourceRecord[]): void {
    const byName = new Map<string, Set<ResourceRecord>>();
    for (const rr of records) {
      let set = byName.get(rr.name);
      if (!set) byName.set(rr.name, (set = new Set()));
      set.add(rr);
    }
    for (const [name, set] of byName) {
      const apex = this.apexOf(name);
      const key = nameToKey(name);
      const e = this.names.get(key);
      if (!apex || !e) continue;
      const before = e.records.length;
      const kept = e.records.filter((rr) => !set.has(rr));
      e.records = kept.length > 0 ? kept.slice() : kept; // filter leaves room for more (see add)
      const removed = before - e.records.length;
      if (removed === 0) continue;
      e.prepared = null;
      this.dropIfEmpty(key, e);
      if (apex !== this.cluster) continue;
      for (const a of ancestors(name, apex.name)) {
        const k = nameToKey(a);
        const ae = this.names.get(k);
        if (!ae) continue;
        ae.below -= removed;
        this.dropIfEmpty(k, ae);
      }
    }
  }

  private entry(name: string, apex: Apex): NameEntry {
    const key = nameToKey(name);
    let e = this.names.get(key);
    if (!e) {
      e = { name, apex, records: [], below: 0, prepared: null };
      this.names.set(key, e);
    }
    return e;
  }

  private dropIfEmpty(key: string, e: NameEntry): void {
    if (e.records.length === 0 && e.below <= 0) this.names.delete(key);
  }

  /**
   * The apex a name not in the zone falls under, when kproxy is authoritative for it (so a
   * miss is NXDOMAIN); null when the name is someone else's (forward it, or REFUSED).
   */
  authorityFor(key: string, owns: (reverseAddress: string) => boolean, reverseAddress: (key: string) => string | null): Apex | null {
    if (isSubdomainKey(key, this.cluster.key)) return this.cluster;
    for (const a of [this.reverseV4, this.reverseV6]) {
      if (!isSubdomainKey(key, a.key)) continue;
      const ip = reverseAddress(key);
      return ip !== null && owns(ip) ? a : null;
    }
    return null;
  }
}

/** Names strictly between `name` and its apex, plus the apex itself. */
function ancestors(name: string, apex: string): string[] {
  const labels = labelsOf(name);
  const stop = labelsOf(apex).length;
  const out: string[] = [];
  for (let i = 1; labels.length - i >= stop; i++) out.push(labels.slice(i).join('.'));
  return out;
}

/** Whether a wire key is `apexKey` or below it, at a label boundary. */
export function isSubdomainKey(key: string, apexKey: string): boolean {
  if (key.length < apexKey.length || !key.endsWith(apexKey)) return false;
  const boundary = key.length - apexKey.length;
  let o = 0;
  while (o < boundary) o += 1 + key.charCodeAt(o);
  return o === boundary;
}
