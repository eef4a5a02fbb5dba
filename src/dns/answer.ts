// Answers: prepared once per name and query type, then stamped per query.
//
// A prepared answer is the message body after the question, encoded with the lower-case
// question at offset 12 so that owners and targets compress into it. A query of the same
// name in any letter case has a question of the same length, so the body fits it unchanged:
// answering is copying the query's own question (keeping its case, RFC 4343) between a new
// header and the prepared body.
import type { Prepared } from './prepared.js';
import type { ParsedQuery } from './query.js';
import type { Apex, NameEntry } from './zone.js';
import { FLAG, MessageWriter, RCODE, TYPE, type ResourceRecord } from './wire.js';
import { udpAnswerLimit } from './udp-size.js';

export type { Prepared } from './prepared.js';

/** The UDP payload size kproxy offers in its OPT record (the DNS flag day 2020 figure). */
export const SERVER_UDP_SIZE = 1232;
const TCP_LIMIT = 65535;

/** Records of the entry answering `qtype`, with additional records for SRV / NS targets; null = NODATA. */
export function prepare(entry: NameEntry, qtype: number, lookup: (name: string) => NameEntry | undefined): Prepared | null {
  const all = entry.records;
  let answer: ResourceRecord[];
  const cname = all.filter((r) => r.data.type === TYPE.CNAME);
  if (cname.length > 0)
    answer = cname; // a CNAME answers every type (RFC 1034 3.6.2)
  else if (qtype === TYPE.ANY) answer = all;
  else answer = all.filter((r) => r.data.type === qtype);
  if (answer.length === 0) return null;

  const additional: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const rr of answer) {
    const d = rr.data;
    if (d.type !== TYPE.SRV && d.type !== TYPE.NS) continue;
    if (seen.has(d.target)) continue;
    seen.add(d.target);
    const t = lookup(d.target);
    for (const rr of t?.records ?? []) if (rr.data.type === TYPE.A || rr.data.type === TYPE.AAAA) additional.push(rr);
  }

  const w = new MessageWriter(entry.name);
  for (const rr of answer) w.record(rr);
  const essential = w.length;
  for (const rr of additional) w.record(rr);
  return { ancount: answer.length, nscount: 0, arcount: additional.length, body: w.bytes(), essential };
}

/**
 * The SOA record of `apex` for the authority section of a negative answer, encoded after a
 * two-byte owner pointer that the sender fills in (the apex is a suffix of the question).
 */
export function soaTail(apex: Apex): Buffer {
  // Uncompressed: the rdata must not point into a question it was not encoded with.
  const w = new MessageWriter('', false);
  w.record(apex.soa, false);
  return w.bytes();
}

// Byte stores rather than Buffer's write/copy helpers: on the hot path, for a few dozen
// bytes, their argument checks cost more than the copying.
function header(out: Buffer, q: ParsedQuery, flags: number, rcode: number, qd: number, an: number, ns: number, ar: number): void {
  const f = FLAG.QR | (q.flags & (FLAG.RD | FLAG.CD | 0x7800)) | flags | (rcode & 15);
  out[0] = q.id >> 8;
  out[1] = q.id;
  out[2] = f >> 8;
  out[3] = f;
  out[4] = qd >> 8;
  out[5] = qd;
  out[6] = an >> 8;
  out[7] = an;
  out[8] = ns >> 8;
  out[9] = ns;
  out[10] = ar >> 8;
  out[11] = ar;
}

/** The query's question, byte for byte (its letter case included). */
function copyQuestion(out: Buffer, msg: Buffer, end: number): void {
  for (let i = 12; i < end; i++) out[i] = msg[i];
}

/** The OPT record of a response: our payload size; the extended RCODE's upper bits. */
function writeOpt(out: Buffer, o: number, extRcode: number): number {
  out[o] = 0;
  out.writeUInt16BE(TYPE.OPT, o + 1);
  out.writeUInt16BE(SERVER_UDP_SIZE, o + 3);
  out.writeUInt32BE(((extRcode >> 4) & 0xff) << 24, o + 5);
  out.writeUInt16BE(0, o + 9);
  return o + 11;
}

function limitFor(q: ParsedQuery, tcp: boolean): number {
  if (tcp) return TCP_LIMIT;
  return udpAnswerLimit(q);
}

/** A positive answer: header + the query's own question + prepared body (+ OPT). */
export function stampAnswer(msg: Buffer, q: ParsedQuery, p: Prepared, flags: number, tcp: boolean): Buffer {
  const qlen = q.questionEnd - 12;
  const opt = q.edns ? 11 : 0;
  const limit = limitFor(q, tcp);
  let bodyLen = p.body.length;
  let ar = p.arcount;
  let an = p.ancount;
  let ns = p.nscount;
  let tc = 0;
  if (12 + qlen + bodyLen + opt > limit) {
    bodyLen = p.essential; // additional records are optional: drop them first
    ar = 0;
    if (12 + qlen + bodyLen + opt > limit) {
      bodyLen = 0; // still too big: no partial RRsets (RFC 2181 9), TC tells the client to use TCP
      an = ns = 0;
      tc = FLAG.TC;
    }
  }
  const out = Buffer.allocUnsafe(12 + qlen + bodyLen + opt);
  header(out, q, flags | tc, RCODE.NOERROR, 1, an, ns, ar + (opt ? 1 : 0));
  copyQuestion(out, msg, q.questionEnd);
  if (bodyLen === p.body.length) out.set(p.body, 12 + qlen);
  else if (bodyLen > 0) out.set(p.body.subarray(0, bodyLen), 12 + qlen);
  if (opt) writeOpt(out, 12 + qlen + bodyLen, 0);
  return out;
}

/** NXDOMAIN or NODATA: the question and the apex's SOA in the authority section. */
export function stampNegative(msg: Buffer, q: ParsedQuery, rcode: number, apex: Apex, tail: Buffer, flags: number): Buffer {
  const qlen = q.questionEnd - 12;
  const opt = q.edns ? 11 : 0;
  const out = Buffer.allocUnsafe(12 + qlen + 2 + tail.length + opt);
  header(out, q, flags, rcode, 1, 0, 1, opt ? 1 : 0);
  copyQuestion(out, msg, q.questionEnd);
  // The apex is the question's last labels: point at them (the SOA owner keeps the query's case).
  const apexAt = 12 + q.nameLength - apex.key.length;
  out.writeUInt16BE(0xc000 | apexAt, 12 + qlen);
  out.set(tail, 12 + qlen + 2);
  if (opt) writeOpt(out, 12 + qlen + 2 + tail.length, 0);
  return out;
}

/** An answer without records: REFUSED, NOTIMP, FORMERR, SERVFAIL, BADVERS. */
export function stampEmpty(msg: Buffer, q: ParsedQuery, rcode: number, flags: number, withQuestion: boolean): Buffer {
  const qlen = withQuestion ? q.questionEnd - 12 : 0;
  const opt = q.edns ? 11 : 0;
  const out = Buffer.allocUnsafe(12 + qlen + opt);
  header(out, q, flags, rcode, withQuestion ? 1 : 0, 0, 0, opt ? 1 : 0);
  if (withQuestion) copyQuestion(out, msg, q.questionEnd);
  if (opt) writeOpt(out, 12 + qlen, rcode);
  return out;
}
