// Shared by the DNS tests: a DnsServer on 127.0.0.1 fed by the real ChangeTracker from the
// manifests in test/dns/fixtures, and `dig` run against it.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { isLoopback } from '../../src/api/ip.js';
import { DnsServer, type DnsServerOptions } from '../../src/dns/server.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { loadManifestsOnce } from '../../src/sources/manifests/once.js';

const run = promisify(execFile);

export const FIXTURES = resolve('test/dns/fixtures');

export interface Running {
  server: DnsServer;
  tracker: ChangeTracker;
  port: number;
  /** Takes a snapshot of the tracker and hands it to the server (one sync). */
  sync(): void;
  close(): Promise<void>;
}

export async function startServer(opts: Partial<DnsServerOptions> = {}, dir: string | null = FIXTURES): Promise<Running> {
  const tracker = new ChangeTracker({ nodeName: 'dns-test-node' });
  if (dir) loadManifestsOnce(dir, tracker);
  const server = new DnsServer({ zone: 'cluster.local', ttl: 5, authoritativeCIDRs: ['10.96.0.0/16', '10.244.0.0/16'], ...opts });
  const sync = () => server.update(tracker.snapshot());
  sync();
  const { host, port } = await server.listen('127.0.0.1:0');
  // Every query of these tests goes to loopback: nothing leaves the machine.
  if (!isLoopback(host)) throw new Error(`test DNS server bound to ${host}, not loopback`);
  return { server, tracker, port, sync, close: () => server.close() };
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  question: string[];
  udpSize: number | null;
}

/** Runs the real dig against 127.0.0.1:port; `args` as on dig's command line. */
export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+yaml', '+norec', '+time=2', '+tries=1', ...args]);
  const docs = parse(stdout, { version: '1.1', customTags: ['timestamp'] }) as { message?: { response_message_data?: Record<string, unknown> } }[];
  const m = docs.find((d) => d.message?.response_message_data)?.message?.response_message_data;
  if (!m) throw new Error(`dig ${args.join(' ')}: no response\n${stdout}`);
  const list = (k: string) => ((m[k] as string[] | undefined) ?? []).map((s) => s.replace(/\s+/g, ' '));
  const opt = m.OPT_PSEUDOSECTION as { EDNS?: { udp?: number } } | undefined;
  return {
    status: String(m.status),
    flags: String(m.flags ?? '')
      .split(' ')
      .filter(Boolean),
    question: list('QUESTION_SECTION'),
    answer: list('ANSWER_SECTION'),
    authority: list('AUTHORITY_SECTION'),
    additional: list('ADDITIONAL_SECTION'),
    udpSize: opt?.EDNS?.udp ?? null,
  };
}

/** The record data of answer lines, sorted ("name ttl IN TYPE data" → "TYPE data"). */
export function rdata(lines: string[]): string[] {
  return lines.map((l) => l.split(' ').slice(3).join(' ')).sort();
}

export async function hasDig(): Promise<boolean> {
  try {
    await run('dig', ['-v']);
    return true;
  } catch {
    return false;
  }
}

/** A query in wire form, built with dns-packet (the reference encoder). */
export function query(name: string, type: string, opts: { id?: number; edns?: number; rd?: boolean } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0, options: [] } as never] : [],
  });
}

export function udpExchange(port: number, msg: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

/** Sends raw bytes on one TCP connection, collects `count` framed answers. */
export function tcpExchange(port: number, bytes: Buffer[], count: number, timeoutMs = 2000): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const s = net.connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(out);
    };
    const t = setTimeout(done, timeoutMs);
    s.on('error', done);
    s.on('connect', () => {
      for (const b of bytes) s.write(b);
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= count) done();
    });
  });
}

export function framed(m: Buffer): Buffer {
  const l = Buffer.alloc(2);
  l.writeUInt16BE(m.length);
  return Buffer.concat([l, m]);
}
