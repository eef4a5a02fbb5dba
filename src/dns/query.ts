// Reading a query: the hot path. A hand-rolled parser of exactly what a query may hold
// (header, one question, an optional OPT record) that never trusts a length or count, and
// returns a verdict instead of throwing. Everything else about the message is left alone.
import { TYPE } from './wire.js';

export const enum Verdict {
  /** A well-formed query: answer it. */
  Query,
  /** Not worth an answer (too short to carry an ID, or itself a response). */
  Drop,
  /** Malformed: FORMERR. */
  FormErr,
  /** An opcode other than QUERY: NOTIMP. */
  NotImp,
}

export interface ParsedQuery {
  verdict: Verdict;
  id: number;
  /** Flags word of the query (opcode, RD, CD, ...). */
  flags: number;
  /** Offset just past the question (name + type + class). */
  questionEnd: number;
  /** Length of the question name in wire form. */
  nameLength: number;
  qtype: number;
  qclass: number;
  /** The question name, wire form, lower-cased, as a latin1 string: the key of the zone's maps ('' until keyOf). */
  key: string;
  /** EDNS(0): whether the query had an OPT record, its UDP payload size and version. */
  edns: boolean;
  udpSize: number;
  ednsVersion: number;
}

export function newParsedQuery(): ParsedQuery {
  return { verdict: Verdict.Drop, id: 0, flags: 0, questionEnd: 0, nameLength: 0, qtype: 0, qclass: 0, key: '', edns: false, udpSize: 512, ednsVersion: 0 };
}

/** Parses `msg` into `q` (reused between calls: the hot path allocates nothing). */
export function parseQuery(msg: Buffer, q: ParsedQuery): ParsedQuery {
  q.edns = false;
  q.udpSize = 512;
  q.ednsVersion = 0;
  q.key = '';
  const n = msg.length;
  if (n < 12) return verdict(q, Verdict.Drop);
  q.id = (msg[0] << 8) | msg[1];
  q.flags = (msg[2] << 8) | msg[3];
  if (q.flags & 0x8000) return verdict(q, Verdict.Drop); // a response: answering it invites loops
  if ((q.flags & 0x7800) !== 0) return verdict(q, Verdict.NotImp); // opcode
  const qd = (msg[4] << 8) | msg[5];
  const an = (msg[6] << 8) | msg[7];
  const ns = (msg[8] << 8) | msg[9];
  const ar = (msg[10] << 8) | msg[11];
  if (qd !== 1 || an !== 0 || ns !== 0) return verdict(q, Verdict.FormErr);

  // Question name: plain labels only; a pointer has nothing before it to point to.
  let o = 12;
  for (;;) {
    if (o >= n) return verdict(q, Verdict.FormErr);
    const l = msg[o];
    if (l === 0) break;
    if (l > 63) return verdict(q, Verdict.FormErr);
    o += 1 + l;
    if (o - 12 > 254) return verdict(q, Verdict.FormErr); // names are at most 255 bytes
  }
  o += 1;
  if (o + 4 > n) return verdict(q, Verdict.FormErr);
  q.nameLength = o - 12;
  q.qtype = (msg[o] << 8) | msg[o + 1];
  q.qclass = (msg[o + 2] << 8) | msg[o + 3];
  q.questionEnd = o + 4;

  // Additional section: at most one OPT (RFC 6891 6.1.1); anything else (TSIG, ...) is skipped.
  o = q.questionEnd;
  for (let i = 0; i < ar; i++) {
    const nameStart = o;
    o = skipName(msg, o);
    if (o < 0 || o + 10 > n) return verdict(q, Verdict.FormErr);
    const type = (msg[o] << 8) | msg[o + 1];
    const rdlen = (msg[o + 8] << 8) | msg[o + 9];
    if (o + 10 + rdlen > n) return verdict(q, Verdict.FormErr);
    if (type === TYPE.OPT) {
      if (q.edns || msg[nameStart] !== 0) return verdict(q, Verdict.FormErr);
      q.edns = true;
      q.udpSize = Math.max(512, (msg[o + 2] << 8) | msg[o + 3]);
      q.ednsVersion = msg[o + 5];
    }
    o += 10 + rdlen;
  }
  return verdict(q, Verdict.Query);
}

/** Buffer's native latin1 decoder (untyped; toString('latin1') adds argument checks around it). */
interface Latin1 {
  latin1Slice(start: number, end: number): string;
}

/** The zone key of a parsed query's name (computed once). */
export function keyOf(msg: Buffer, q: ParsedQuery): string {
  // Label length bytes are below 64, so lower-casing the whole wire form touches letters only.
  if (q.key === '') q.key = (msg as unknown as Latin1).latin1Slice(12, 12 + q.nameLength).toLowerCase();
  return q.key;
}

function verdict(q: ParsedQuery, v: Verdict): ParsedQuery {
  q.verdict = v;
  return q;
}

/** Offset after a (possibly compressed) name, or -1 if it runs off the message. */
function skipName(msg: Buffer, o: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (o >= msg.length) return -1;
    const l = msg[o];
    if (l === 0) return o + 1;
    if ((l & 0xc0) === 0xc0) return o + 2 <= msg.length ? o + 2 : -1; // a pointer ends the name here
    if (l > 63) return -1;
    o += 1 + l;
  }
  return -1;
}

/** The presentation form of a lower-cased wire key ("\x03web\x04demo\x00" → "web.demo"), or null if a label is not printable. */
export function keyToName(key: string): string | null {
  const labels: string[] = [];
  let o = 0;
  while (o < key.length) {
    const l = key.charCodeAt(o);
    if (l === 0) break;
    const label = key.slice(o + 1, o + 1 + l);
    if (!/^[\x21-\x7e]*$/.test(label) || label.includes('.')) return null;
    labels.push(label);
    o += 1 + l;
  }
  return labels.join('.');
}

/** The wire key of a lower-case presentation name. */
export function nameToKey(name: string): string {
  if (name === '') return '\0';
  // Joined, not concatenated: a `+=` chain is a rope that the zone's Map would keep as a tree
  // of ten or more string pieces per name (≈290 bytes); join makes one flat string.
  const parts: string[] = [];
  for (const l of name.split('.')) parts.push(String.fromCharCode(l.length), l);
  parts.push('\0');
  return parts.join('');
}
