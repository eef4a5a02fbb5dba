// Names outside the cluster domain, when --dns-upstream is given: the query is relayed to
// the upstream servers in turn (over the transport the client used) and the answer kept in
// a small cache for its TTL, capped at a minute.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { splitHostPort } from '../util/net.js';
import type { ParsedQuery } from './query.js';

const TIMEOUT_MS = 2000;
const CACHE_ENTRIES = 2000;
const CACHE_MAX_SECONDS = 60;

/** UDP queries to upstreams at once (each holds a socket). */
const MAX_IN_FLIGHT = 512;

export class Forwarder {
  private readonly servers: { host: string; port: number }[];
  private readonly cache = new Map<string, { response: Buffer; expires: number }>();
  /** Queries on the wire over UDP, each with its own socket; close() ends them. */
  private readonly open = new Set<(r: Buffer | null) => void>();
  private inFlight = 0;
  private closed = false;

  constructor(upstreams: readonly string[]) {
    this.servers = upstreams.map((u) => splitHostPort(u));
  }

  /** The upstream's answer with the client's ID and question, or null when none answered. */
  async forward(msg: Buffer, q: ParsedQuery, tcp: boolean): Promise<Buffer | null> {
    const key = `${q.key}/${q.qtype}/${q.qclass}/${q.edns ? q.udpSize : 0}/${tcp ? 't' : 'u'}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return restamp(hit.response, msg, q);
    if (hit) this.cache.delete(key);
    for (const s of this.servers) {
      if (this.closed) return null;
      const r = tcp ? await this.viaTCP(msg, s) : await this.viaUDP(msg, q, s);
      if (!r) continue;
      const ttl = cacheSeconds(r);
      if (ttl > 0) {
        if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { response: r, expires: Date.now() + ttl * 1000 });
      }
      return restamp(r, msg, q);
    }
    return null;
  }

  /**
   * One query, on a socket of its own: a fresh random source port (chosen by the kernel) and
   * a random ID, so that an off-path attacker must guess both to spoof an answer. At most
   * MAX_IN_FLIGHT such sockets exist at once; beyond that the query fails (SERVFAIL).
   */
  private viaUDP(msg: Buffer, q: ParsedQuery, s: { host: string; port: number }): Promise<Buffer | null> {
    if (this.inFlight >= MAX_IN_FLIGHT) return Promise.resolve(null);
    this.inFlight++;
    const id = randomInt(0, 65536);
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const question = msg.subarray(12, q.questionEnd);
    const sock = dgram.createSocket(s.host.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: Buffer | null) => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        this.open.delete(done);
        clearTimeout(timer);
        try {
          sock.close();
        } catch {
          // already closed
        }
        resolve(r);
      };
      const timer = setTimeout(() => done(null), TIMEOUT_MS);
      this.open.add(done);
      sock.on('error', () => done(null));
      sock.on('message', (m, rinfo) => {
        // Only an answer from the server asked, with our ID, to the question asked.
        if (rinfo.port !== s.port || m.length < 12 + question.length || m.readUInt16BE(0) !== id) return;
        if (!m.subarray(12, 12 + question.length).equals(question)) return;
        done(m);
      });
      sock.send(out, s.port, s.host, (err) => {
        if (err) done(null);
      });
    });
  }

  private viaTCP(msg: Buffer, s: { host: string; port: number }): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const sock = net.connect(s.port, s.host);
      let buf = Buffer.alloc(0);
      const done = (r: Buffer | null) => {
        sock.destroy();
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => done(null), TIMEOUT_MS);
      sock.on('error', () => done(null));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      sock.on('end', () => done(null));
    });
  }

  close(): void {
    this.closed = true;
    for (const done of [...this.open]) done(null);
  }
}

/** The cached answer with this client's ID and the question as the client wrote it. */
function restamp(r: Buffer, msg: Buffer, q: ParsedQuery): Buffer {
  const out = Buffer.from(r);
  out.writeUInt16BE(q.id, 0);
  if (out.length >= q.questionEnd) msg.copy(out, 12, 12, q.questionEnd);
  return out;
}

/** How long an upstream answer may be cached: its smallest TTL (negative: the SOA's), 0 = not at all. */
function cacheSeconds(r: Buffer): number {
  try {
    const p = dnsPacket.decode(r);
    const flags = p.flags ?? 0;
    if (flags & 0x0200) return 0; // truncated
    if ((flags & 15) !== 0 && (flags & 15) !== 3) return 0; // only NOERROR and NXDOMAIN are kept
    const ttls = [...(p.answers ?? []), ...(p.authorities ?? [])].map((a) => {
      const d = a as { type: string; ttl?: number; data?: { minimum?: number } };
      return d.type === 'SOA' ? Math.min(d.ttl ?? 0, d.data?.minimum ?? 0) : (d.ttl ?? 0);
    });
    if (ttls.length === 0) return 0;
    return Math.min(CACHE_MAX_SECONDS, ...ttls);
  } catch {
    return 0;
  }
}
