// nf_tables set-element messages in their netlink encoding, for the partial syncs that only
// add and delete map and set elements (the common case: an EndpointSlice changed). A batch
// is BATCH_BEGIN, the element messages, BATCH_END: the kernel applies it as one transaction
// or not at all, exactly like the batch `nft -f` sends.
//
// Keys and values are taken from the element text kproxy renders ("10.1.2.3 . 80 . 4",
// "goto service-…") and laid out as nft lays out the set's declared type: each part of a
// concatenation in its own 32-bit register (zero-padded), addresses and ports in network
// order, `numgen` slots in host order. Only the sets listed in layout() are encoded; any
// other set makes the caller fall back to nft (nothing is guessed).
import { isIPv4 } from 'node:net';
import type { ElementOp } from '../elements.js';
import type { NftFamily } from '../ruleset.js';
import { NODEPORT_ENDPOINT_CHAINS, nodePortEndpointsMap, PROTOCOLS, SERVICE_ENDPOINT_CHAINS, serviceEndpointsMap } from '../maps.js';
import { HAIRPIN_SET } from '../masquerade.js';

// linux/netlink.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h
export const NLMSG_ERROR = 2;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_DATA = 2;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
const NFPROTO: Record<NftFamily, number> = { ip: 2, ip6: 10 };
const VERDICTS: Record<string, number> = { accept: 1, drop: 0, continue: -1, return: -5 };
const CHAIN_VERDICTS: Record<string, number> = { jump: -3, goto: -4 };
const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };

/** One part of a concatenated key or value. */
type Part = 'addr' | 'proto' | 'port' | 'slot';
interface Layout {
  key: Part[];
  /** null: a set (no value); 'verdict': a verdict map. */
  data: Part[] | 'verdict' | null;
}

/** The layout of each global set and map that service ports put elements in (compile.ts globalSets). */
export function layout(set: string): Layout | null {
  if (set === 'cluster-ips' || set === 'nodeport-ips') return { key: ['addr'], data: null };
  if (set === HAIRPIN_SET) return { key: ['addr', 'addr'], data: null };
  if (set === 'service-ips' || set === 'firewall-ips' || set === 'no-endpoint-services') return { key: ['addr', 'proto', 'port'], data: 'verdict' };
  if (set === 'service-nodeports' || set === 'no-endpoint-nodeports') return { key: ['proto', 'port'], data: 'verdict' };
  if (set === SERVICE_ENDPOINT_CHAINS) return { key: ['addr', 'proto', 'port', 'slot'], data: 'verdict' };
  if (set === NODEPORT_ENDPOINT_CHAINS) return { key: ['proto', 'port', 'slot'], data: 'verdict' };
  for (const p of PROTOCOLS) {
    if (set === serviceEndpointsMap(p)) return { key: ['addr', 'port', 'slot'], data: ['addr', 'port'] };
    if (set === nodePortEndpointsMap(p)) return { key: ['port', 'slot'], data: ['addr', 'port'] };
  }
  return null;
}

export class EncodeError extends Error {}

/** Builds one batch. */
export class BatchBuilder {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** What each message sequence number did, to name it in an error. */
  readonly described = new Map<number, string>();
  private seq: number;

  constructor(firstSeq: number) {
    this.seq = firstSeq;
    this.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES, []);
  }

  /** Adds the messages of one op (several when its elements do not fit in one attribute). */
  op(table: string, op: ElementOp): void {
    const lay = layout(op.set);
    if (!lay) throw new EncodeError(`no netlink layout for set ${op.set}`);
    const type = (NFNL_SUBSYS_NFTABLES << 8) | (op.verb === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
    const flags = NLM_F_REQUEST | NLM_F_ACK | (op.verb === 'add' ? NLM_F_CREATE : 0);
    let elems: Buffer[] = [];
    let bytes = 0;
    const flush = () => {
      if (elems.length === 0) return;
      const seq = this.message(type, flags, NFPROTO[op.family], 0, [
        attrString(NFTA_SET_ELEM_LIST_TABLE, table),
        attrString(NFTA_SET_ELEM_LIST_SET, op.set),
        attrNested(NFTA_SET_ELEM_LIST_ELEMENTS, elems),
      ]);
      this.described.set(seq, `${op.verb} element ${op.family} ${table} ${op.set}`);
      elems = [];
      bytes = 0;
    };
    for (const item of op.items) {
      const parts = [attrNested(NFTA_SET_ELEM_KEY, [attr(NFTA_DATA_VALUE, encodeParts(lay.key, item.key, op.family, op.set))])];
      if (op.verb === 'add' && lay.data !== null) parts.push(attrNested(NFTA_SET_ELEM_DATA, [encodeData(lay.data, item.value, op.family, op.set)]));
      const e = attrNested(NFTA_LIST_ELEM, parts);
      // A netlink attribute's length is 16 bits: keep each element list well below 64 KiB.
      if (bytes + e.length > 60_000) flush();
      elems.push(e);
      bytes += e.length;
    }
    flush();
  }

  /** The batch, closed with BATCH_END. */
  finish(): { buffer: Buffer; lastSeq: number } {
    const lastSeq = this.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES, []);
    return { buffer: Buffer.concat(this.chunks, this.size), lastSeq };
  }

  /** The number of messages that ask for an acknowledgement. */
  get acked(): number {
    return this.described.size;
  }

  private message(type: number, flags: number, family: number, resId: number, attrs: Buffer[]): number {
    const seq = this.seq++;
    const body = Buffer.concat(attrs);
    const b = Buffer.alloc(16 + 4);
    b.writeUInt32LE(20 + body.length, 0);
    b.writeUInt16LE(type, 4);
    b.writeUInt16LE(flags, 6);
    b.writeUInt32LE(seq, 8);
    b.writeUInt32LE(0, 12);
    b.writeUInt8(family, 16);
    b.writeUInt8(0, 17); // NFNETLINK_V0
    b.writeUInt16BE(resId, 18);
    this.chunks.push(b, body);
    this.size += b.length + body.length;
    return seq;
  }
}

function encodeData(data: Part[] | 'verdict', text: string, family: NftFamily, set: string): Buffer {
  if (data !== 'verdict') return attr(NFTA_DATA_VALUE, encodeParts(data, text, family, set));
  const [word, chain, ...rest] = text.trim().split(/\s+/);
  if (word in VERDICTS && chain === undefined) return attrNested(NFTA_DATA_VERDICT, [attrU32BE(NFTA_VERDICT_CODE, VERDICTS[word])]);
  if (word in CHAIN_VERDICTS && chain && rest.length === 0) {
    return attrNested(NFTA_DATA_VERDICT, [attrU32BE(NFTA_VERDICT_CODE, CHAIN_VERDICTS[word]), attrString(NFTA_VERDICT_CHAIN, chain)]);
  }
  throw new EncodeError(`${set}: cannot encode verdict "${text}"`);
}

/** A concatenation, each part in its own 4-byte-aligned register. */
export function encodeParts(parts: Part[], text: string, family: NftFamily, set: string): Buffer {
  const values = text.split(' . ');
  if (values.length !== parts.length) throw new EncodeError(`${set}: "${text}" does not have ${parts.length} parts`);
  const out: Buffer[] = [];
  parts.forEach((p, i) => out.push(encodePart(p, values[i].trim(), family, set)));
  return Buffer.concat(out);
}

function encodePart(p: Part, v: string, family: NftFamily, set: string): Buffer {
  const bad = () => new EncodeError(`${set}: cannot encode ${p} "${v}"`);
  switch (p) {
    case 'addr':
      if (family === 'ip') {
        if (!isIPv4(v)) throw bad();
        return Buffer.from(v.split('.').map(Number));
      }
      return ipv6Bytes(v) ?? fail(bad());
    case 'proto': {
      const n = PROTO_NUMBERS[v];
      if (n === undefined) throw bad();
      return Buffer.from([n, 0, 0, 0]);
    }
    case 'port': {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw bad();
      const b = Buffer.alloc(4);
      b.writeUInt16BE(n, 0);
      return b;
    }
    case 'slot': {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 0xffffffff) throw bad();
      // numgen's result is an integer register in host byte order.
      const b = Buffer.alloc(4);
      if (HOST_LE) b.writeUInt32LE(n, 0);
      else b.writeUInt32BE(n, 0);
      return b;
    }
  }
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function fail(e: Error): never {
  throw e;
}

function ipv6Bytes(v: string): Buffer | null {
  if (v.includes('.')) return null; // embedded IPv4 forms are not rendered by kproxy
  const halves = v.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    b.writeUInt16BE(parseInt(groups[i], 16), i * 2);
  }
  return b;
}

// ---- attributes ----------------------------------------------------------------------------

function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

function attrNested(type: number, children: Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

function attrString(type: number, s: string): Buffer {
  return attr(type, Buffer.from(s + '\0'));
}

function attrU32BE(type: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return attr(type, b);
}
