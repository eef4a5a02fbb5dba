// The cluster DNS server: UDP and TCP on one address, answers from the zone, everything
// else forwarded (when upstreams are given) or REFUSED — kproxy is not an open resolver.
import dgram from 'node:dgram';
import net from 'node:net';
import { cidrContains, parseCIDR, type ParsedCIDR } from '../api/ip.js';
import type { ProxyState } from '../model/types.js';
import { listenOn, splitHostPort } from '../util/net.js';
import { prepare, soaTail, stampAnswer, stampEmpty, stampNegative, type Prepared } from './answer.js';
import { Forwarder } from './forward.js';
import { FastPath } from './fastpath.js';
import { keyOf, keyToName, nameToKey, newParsedQuery, parseQuery, Verdict, type ParsedQuery } from './query.js';
import { addressOfReverse } from './records.js';
import { CLASS_ANY, CLASS_IN, FLAG, RCODE, type RData } from './wire.js';
import { Zone, type Apex } from './zone.js';
import { queryDeadline } from './tcp-deadline.js';
import { fitUdpAnswer } from './udp-size.js';
import { UdpBatcher } from './mmsg.js';

export interface DnsServerOptions {
  /** The cluster domain, e.g. cluster.local. */
  zone: string;
  ttl: number;
  /** "ip:port" servers for names outside the zone; [] = REFUSED. */
  upstreams?: readonly string[];
  /** CIDRs whose reverse names kproxy answers with authority (NXDOMAIN when unknown): service and pod ranges. */
  authoritativeCIDRs?: readonly string[];
  /** Addresses published as ns.dns.<zone> (the server's own). */
  serverAddresses?: readonly RData[];
  /** Called for each query answered, with its response code (for metrics). */
  onAnswer?: (rcode: number, tcp: boolean) => void;
  /** A TCP connection without a complete query for this long is closed (tcp-deadline.ts). */
  tcpIdleMs?: number;
}

export interface DnsCounters {
  queries: number;
  formerr: number;
  dropped: number;
  forwarded: number;
}

const TCP_MAX_CONNECTIONS = 512;
const TYPE_AXFR = 252;
const TYPE_IXFR = 251;
const RCODE_BADVERS = 16;

export class DnsServer {
  readonly zone: Zone;
  private readonly forwarder: Forwarder | null;
  private readonly cidrs: ParsedCIDR[];
  private readonly tails = new Map<Apex, Buffer>();
  private readonly q: ParsedQuery = newParsedQuery();
  private readonly fast = new FastPath();
  private readonly aa: number;
  private readonly ra: number;
  private udp: dgram.Socket[] = [];
  /** recvmmsg/sendmmsg per UDP socket where available (mmsg.ts). */
  readonly batchers: UdpBatcher[] = [];
  private tcp: net.Server[] = [];
  private readonly conns = new Set<net.Socket>();
  readonly counters: DnsCounters = { queries: 0, formerr: 0, dropped: 0, forwarded: 0 };

  constructor(private readonly opts: DnsServerOptions) {
    this.zone = new Zone({ zone: opts.zone, ttl: opts.ttl, serverAddresses: opts.serverAddresses });
    this.forwarder = opts.upstreams && opts.upstreams.length > 0 ? new Forwarder(opts.upstreams) : null;
    this.cidrs = (opts.authoritativeCIDRs ?? []).map((c) => parseCIDR(c)).filter((c): c is ParsedCIDR => c !== null);
    for (const a of [this.zone.cluster, this.zone.reverseV4, this.zone.reverseV6]) this.tails.set(a, soaTail(a));
    this.aa = FLAG.AA;
    this.ra = this.forwarder ? FLAG.RA : 0;
  }

  /** Follows the model: answers change as soon as this returns. */
  update(state: ProxyState): void {
    if (this.zone.update(state)) this.fast.clear();
  }

  /**
   * The response to one message: a Buffer, null (drop), or a promise of either (forwarded).
   * Never throws on any input.
   */
  answer(msg: Buffer, tcp: boolean): Buffer | null | Promise<Buffer | null> {
    this.counters.queries++;
    const q = parseQuery(msg, this.q);
    switch (q.verdict) {
      case Verdict.Drop:
        this.counters.dropped++;
        return null;
      case Verdict.FormErr:
        this.counters.formerr++;
        return this.done(stampEmpty(msg, q, RCODE.FORMERR, this.ra, false), RCODE.FORMERR, tcp);
      case Verdict.NotImp:
        return this.done(stampEmpty(msg, q, RCODE.NOTIMP, this.ra, false), RCODE.NOTIMP, tcp);
    }
    if (q.edns && q.ednsVersion !== 0) return this.done(stampEmpty(msg, q, RCODE_BADVERS, this.ra, true), RCODE_BADVERS, tcp);
    if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return this.done(stampEmpty(msg, q, RCODE.REFUSED, this.ra, true), RCODE.REFUSED, tcp);

    const hash = FastPath.hash(msg, q.nameLength, q.qtype);
    const hit = this.fast.get(msg, q.nameLength, q.qtype, hash);
    if (hit !== null) return this.done(stampAnswer(msg, q, hit, this.aa | this.ra, tcp), RCODE.NOERROR, tcp);

    const key = keyOf(msg, q);
    const entry = this.zone.get(key);
    if (entry) {
      if (q.qtype === TYPE_AXFR || q.qtype === TYPE_IXFR) return this.done(stampEmpty(msg, q, RCODE.REFUSED, this.ra, true), RCODE.REFUSED, tcp);
      let cache = entry.prepared;
      if (cache === null) cache = entry.prepared = new Map();
      let p: Prepared | null | undefined = cache.get(q.qtype);
      if (p === undefined) {
        p = prepare(entry, q.qtype, (name) => this.zone.get(nameToKey(name)));
        cache.set(q.qtype, p);
      }
      if (p !== null) {
        this.fast.add(msg, q.nameLength, q.qtype, hash, p);
        return this.done(stampAnswer(msg, q, p, this.aa | this.ra, tcp), RCODE.NOERROR, tcp);
      }
      return this.done(stampNegative(msg, q, RCODE.NOERROR, entry.apex, this.tails.get(entry.apex)!, this.aa | this.ra), RCODE.NOERROR, tcp);
    }

    const apex = this.zone.authorityFor(key, (ip) => this.cidrs.some((c) => cidrContains(c, ip)), reverseAddressOfKey);
    if (apex) return this.done(stampNegative(msg, q, RCODE.NXDOMAIN, apex, this.tails.get(apex)!, this.aa | this.ra), RCODE.NXDOMAIN, tcp);
    if (!this.forwarder) return this.done(stampEmpty(msg, q, RCODE.REFUSED, this.ra, true), RCODE.REFUSED, tcp);

    this.counters.forwarded++;
    const own: ParsedQuery = { ...q }; // the shared parse result is reused by the next query
    const copy = Buffer.from(msg); // so is a batch's receive buffer (mmsg.ts)
    return this.forwarder
      .forward(copy, own, tcp)
      .then((r) => (r ? this.done(tcp ? r : fitUdpAnswer(r, own), r[3] & 15, tcp) : this.done(stampEmpty(copy, own, RCODE.SERVFAIL, this.ra, true), RCODE.SERVFAIL, tcp)));
  }

  private done(b: Buffer, rcode: number, tcp: boolean): Buffer {
    this.opts.onAnswer?.(rcode, tcp);
    return b;
  }

  /** Binds UDP and TCP on "ip:port" (port 0: one free port for both). Returns the address bound. */
  async listen(address: string): Promise<{ host: string; port: number }> {
    const { host } = splitHostPort(address);
    let { port } = splitHostPort(address);
    const want = port;
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUDP(host, port);
      port = udp.address().port;
      try {
        this.tcp.push(await this.bindTCP(host, port));
        this.udp.push(udp);
        return { host, port };
      } catch (e) {
        udp.close();
        const i = this.batchers.findIndex((b) => b.socket === udp);
        if (i >= 0) this.batchers.splice(i, 1); // its socket is gone
        // With an ephemeral port the TCP side may collide; try another pair.
        if (want !== 0 || attempt > 20) throw e;
        port = 0;
      }
    }
  }

  private bindUDP(host: string, port: number): Promise<dgram.Socket> {
    const sock = dgram.createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      // Replies go to the literal address a query came from: no resolver round (dns.lookup
      // defers every send by a tick).
      lookup: ((addr: string, family: number, cb: (e: Error | null, a: string, f: number) => void) => cb(null, addr, family)) as never,
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        sock.on('error', () => {}); // ICMP errors for a vanished client: nothing to do
        try {
          sock.setRecvBufferSize(4 << 20);
          sock.setSendBufferSize(4 << 20);
        } catch {
          // the kernel's limits stay: not fatal
        }
        const batcher = UdpBatcher.for(sock);
        if (batcher) this.batchers.push(batcher);
        const answer = (m: Buffer) => this.answer(m, false);
        sock.on('message', (msg, rinfo) => {
          this.onUDP(sock, msg, rinfo.port, rinfo.address);
          batcher?.drain(answer);
        });
        resolve(sock);
      });
    });
  }

  private onUDP(sock: dgram.Socket, msg: Buffer, port: number, address: string): void {
    const r = this.answer(msg, false);
    if (r === null) return;
    if (Buffer.isBuffer(r)) sock.send(r, port, address);
    else
      r.then(
        (b) => b && sock.send(b, port, address),
        () => {},
      );
  }

  private bindTCP(host: string, port: number): Promise<net.Server> {
    const server = net.createServer((s) => this.onConnection(s));
    server.maxConnections = TCP_MAX_CONNECTIONS;
    return listenOn(server, host, port).then(() => server);
  }

  /** RFC 7766: two-byte length framing, pipelined queries, an idle timeout. */
  private onConnection(s: net.Socket): void {
    this.conns.add(s);
    s.setNoDelay(true);
    const deadline = queryDeadline(s, this.opts.tcpIdleMs);
    s.on('error', () => s.destroy());
    s.on('close', () => this.conns.delete(s));
    // Chunks are joined only once a whole frame (or its length prefix) is there: a client
    // trickling a 64 KB frame byte by byte costs one copy, not one per byte.
    let chunks: Buffer[] = [];
    let size = 0;
    let need = 2;
    const reply = (b: Buffer | null) => {
      if (!b || s.destroyed) return;
      const framed = Buffer.allocUnsafe(2 + b.length);
      framed.writeUInt16BE(b.length, 0);
      b.copy(framed, 2);
      // A client that does not read its answers is not allowed to grow our memory.
      if (!s.write(framed) && s.writableLength > 1 << 20) s.destroy();
    };
    s.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      while (size >= need) {
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        chunks = [all];
        const len = all.readUInt16BE(0);
        if (all.length < 2 + len) {
          need = 2 + len; // wait for the rest (the idle timeout bounds the wait)
          break;
        }
        const msg = Buffer.from(all.subarray(2, 2 + len));
        const rest = all.subarray(2 + len);
        chunks = rest.length > 0 ? [rest] : [];
        size = rest.length;
        need = 2;
        deadline.progressed();
        if (len === 0) continue; // nothing to answer, not even an ID
        const r = this.answer(msg, true);
        if (r === null) continue;
        if (Buffer.isBuffer(r)) reply(r);
        else r.then(reply, () => {});
      }
    });
  }

  /** Addresses bound (for tests and logs). */
  addresses(): { host: string; port: number }[] {
    return this.udp.map((u) => ({ host: u.address().address, port: u.address().port }));
  }

  async close(): Promise<void> {
    this.forwarder?.close();
    for (const c of this.conns) c.destroy();
    await Promise.all(this.udp.map((u) => new Promise<void>((r) => u.close(() => r()))));
    await Promise.all(this.tcp.map((t) => new Promise<void>((r) => t.close(() => r()))));
    this.udp = [];
    this.tcp = [];
  }
}

/** The address of a reverse name in wire-key form, or null. */
function reverseAddressOfKey(key: string): string | null {
  const name = keyToName(key);
  return name === null ? null : addressOfReverse(name);
}
