// How big a UDP answer may be: the client's EDNS buffer size, but at most 1232 bytes (the
// 2020 DNS flag day value: no IP fragmentation on any common path), and 512 without EDNS
// (RFC 1035). A bigger answer — also one relayed from an upstream — goes out as its header
// and question with TC set, which tells the client to ask again over TCP.
import type { ParsedQuery } from './query.js';

export const MAX_UDP_ANSWER = 1232;
const TC = 0x0200;

export function udpAnswerLimit(q: ParsedQuery): number {
  return q.edns ? Math.min(Math.max(512, q.udpSize), MAX_UDP_ANSWER) : 512;
}

/** resp as is when it fits the client's limit; else header + question (+ OPT) with TC set. */
export function fitUdpAnswer(resp: Buffer, q: ParsedQuery): Buffer {
  if (resp.length <= udpAnswerLimit(q) || resp.length < q.questionEnd) return resp;
  const opt = q.edns ? 11 : 0;
  const out = Buffer.alloc(q.questionEnd + opt);
  resp.copy(out, 0, 0, q.questionEnd);
  out.writeUInt16BE(out.readUInt16BE(2) | TC, 2);
  out.writeUInt16BE(1, 4); // QDCOUNT
  out.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT
  out.writeUInt16BE(opt ? 1 : 0, 10); // ARCOUNT
  if (opt) {
    const o = q.questionEnd;
    out[o] = 0; // root name
    out.writeUInt16BE(41, o + 1); // OPT
    out.writeUInt16BE(MAX_UDP_ANSWER, o + 3);
  }
  return out;
}
