// The DNS wire format, the small part kproxy writes itself: a message writer with name
// compression (RFC 1035 4.1.4) for the records the cluster zone holds. dns-packet, which
// kproxy uses to read upstream answers and in tests, does not compress names on encode,
// and compressed answers are what keep SRV and PTR responses inside 512 bytes.

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Header flag bits (second and third byte of the header, as one 16-bit word). */
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, CD: 0x0010 } as const;

/** A record's data, in the forms the zone uses. Names are lower-case, without the final dot. */
export type RData =
  | { type: 1; address: Buffer } // A: 4 bytes
  | { type: 28; address: Buffer } // AAAA: 16 bytes
  | { type: 2 | 5 | 12; target: string } // NS, CNAME, PTR
  | { type: 16; text: string } // TXT (one string)
  | { type: 33; priority: number; weight: number; port: number; target: string } // SRV
  | { type: 6; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }; // SOA

export interface ResourceRecord {
  name: string;
  ttl: number;
  data: RData;
}

/** Splits a presentation name ("a.b.c", "" = root) into labels. */
export function labelsOf(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/** The uncompressed wire form of a name. */
export function nameToWire(name: string): Buffer {
  const labels = labelsOf(name);
  const out = Buffer.alloc(labels.reduce((n, l) => n + 1 + Buffer.byteLength(l, 'latin1'), 1));
  let o = 0;
  for (const l of labels) {
    o = out.writeUInt8(l.length, o);
    o += out.write(l, o, 'latin1');
  }
  return out;
}

/**
 * Writes one DNS message body (everything after the question) into a growing buffer,
 * compressing names against the question and every name written before.
 */
export class MessageWriter {
  private buf = Buffer.alloc(512);
  private len = 0;
  private readonly suffixes = new Map<string, number>();
  /** Message offset of the body's first byte: after the header and the question. */
  private readonly bodyStart: number;

  /** question: the lower-case question name, which the sender places at offset 12. */
  constructor(
    question: string,
    private readonly compress = true,
  ) {
    const labels = labelsOf(question);
    this.remember(labels, labels.length, 12);
    this.bodyStart = 12 + nameToWire(question).length + 4;
  }

  /** Bytes written so far (the body, without header and question). */
  get length(): number {
    return this.len;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  /** Remembers where the suffixes starting at the first `count` labels of a name were written. */
  private remember(labels: string[], count: number, at: number): void {
    let off = at;
    for (let i = 0; i < count; i++) {
      if (off >= 0x4000) return; // pointers have 14 bits
      const key = labels.slice(i).join('.');
      if (!this.suffixes.has(key)) this.suffixes.set(key, off);
      off += 1 + labels[i].length;
    }
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** A name, compressed: labels until the longest suffix already written, then a pointer. */
  name(name: string): void {
    const labels = labelsOf(name);
    const start = this.bodyStart + this.len;
    // i: the first label of the longest suffix already written (labels.length: none).
    let i = 0;
    while (i < labels.length && !(this.compress && this.suffixes.has(labels.slice(i).join('.')))) i++;
    for (let j = 0; j < i; j++) {
      this.u8(labels[j].length);
      this.ensure(labels[j].length);
      this.len += this.buf.write(labels[j], this.len, 'latin1');
    }
    if (i < labels.length) this.u16(0xc000 | this.suffixes.get(labels.slice(i).join('.'))!);
    else this.u8(0);
    this.remember(labels, i, start);
  }

  /**
   * One resource record; its owner is compressed like any name (usually into the question).
   * withOwner false: everything after the owner, for a sender that writes the owner itself.
   */
  record(rr: ResourceRecord, withOwner = true): void {
    if (withOwner) this.name(rr.name);
    const d = rr.data;
    this.u16(d.type);
    this.u16(CLASS_IN);
    this.u32(rr.ttl);
    const lenAt = this.len;
    this.u16(0);
    switch (d.type) {
      case 1:
      case 28:
        this.raw(d.address);
        break;
      case 2:
      case 5:
      case 12:
        this.name(d.target);
        break;
      case 16: {
        const t = Buffer.from(d.text, 'latin1');
        this.u8(t.length);
        this.raw(t);
        break;
      }
      case 33:
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        this.name(d.target);
        break;
      case 6:
        this.name(d.mname);
        this.name(d.rname);
        for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) this.u32(v);
        break;
    }
    this.buf.writeUInt16BE(this.len - lenAt - 2, lenAt);
  }
}
