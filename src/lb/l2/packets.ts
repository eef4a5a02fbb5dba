// Ethernet frames for layer-2 announcement, built and read as bytes (no dependencies):
//  - ARP (RFC 826): requests in, replies and gratuitous announcements out;
//  - IPv6 neighbour discovery (RFC 4861): neighbour solicitations in, neighbour
//    advertisements out (solicited replies, and unsolicited ones to all-nodes on takeover).
import ipaddr from 'ipaddr.js';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
const ICMPV6 = 58;
const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;

export const BROADCAST_MAC = Buffer.from('ffffffffffff', 'hex');
const ZERO_MAC = Buffer.alloc(6);

export function macBytes(mac: string): Buffer {
  const b = Buffer.from(mac.replace(/:/g, ''), 'hex');
  if (b.length !== 6) throw new Error(`"${mac}" is not a MAC address`);
  return b;
}

export function macText(b: Buffer): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const ipv4Bytes = (ip: string) => Buffer.from(ipaddr.IPv4.parse(ip).toByteArray());
const ipv6Bytes = (ip: string) => Buffer.from(ipaddr.IPv6.parse(ip).toByteArray());
const ipText = (b: Buffer) => ipaddr.fromByteArray([...b]).toString();

function ethernet(dst: Buffer, src: Buffer, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  dst.copy(h, 0);
  src.copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

// ---- ARP -------------------------------------------------------------------------------

export interface ArpPacket {
  op: 'request' | 'reply';
  senderMAC: string;
  senderIP: string;
  targetMAC: string;
  targetIP: string;
}

/** Reads an Ethernet/IPv4 ARP frame; null for anything else. */
export function parseArp(frame: Buffer): ArpPacket | null {
  if (frame.length < 42 || frame.readUInt16BE(12) !== ETH_P_ARP) return null;
  const a = frame.subarray(14);
  if (a.readUInt16BE(0) !== 1 || a.readUInt16BE(2) !== 0x0800 || a[4] !== 6 || a[5] !== 4) return null;
  const op = a.readUInt16BE(6);
  if (op !== 1 && op !== 2) return null;
  return {
    op: op === 1 ? 'request' : 'reply',
    senderMAC: macText(a.subarray(8, 14)),
    senderIP: ipText(a.subarray(14, 18)),
    targetMAC: macText(a.subarray(18, 24)),
    targetIP: ipText(a.subarray(24, 28)),
  };
}

function arp(op: 1 | 2, ethDst: Buffer, sha: Buffer, spa: string, tha: Buffer, tpa: string): Buffer {
  const a = Buffer.alloc(28);
  a.writeUInt16BE(1, 0); // Ethernet
  a.writeUInt16BE(0x0800, 2); // IPv4
  a[4] = 6;
  a[5] = 4;
  a.writeUInt16BE(op, 6);
  sha.copy(a, 8);
  ipv4Bytes(spa).copy(a, 14);
  tha.copy(a, 18);
  ipv4Bytes(tpa).copy(a, 24);
  return ethernet(ethDst, sha, ETH_P_ARP, a);
}

/** The reply to a request for `ip`: "ip is at mac", sent back to the asker alone. */
export function arpReply(req: ArpPacket, mac: string): Buffer {
  return arp(2, macBytes(req.senderMAC), macBytes(mac), req.targetIP, macBytes(req.senderMAC), req.senderIP);
}

/**
 * A gratuitous ARP: a broadcast request for our own address (sender = target = ip). Hosts
 * that have the address in their neighbour table update its MAC (Linux does so even with
 * arp_accept=0); hosts that do not simply ignore it.
 */
export function gratuitousArp(ip: string, mac: string): Buffer {
  return arp(1, BROADCAST_MAC, macBytes(mac), ip, ZERO_MAC, ip);
}

// ---- IPv6 neighbour discovery ------------------------------------------------------------

export interface NeighborSolicitation {
  srcMAC: string;
  srcIP: string;
  dstIP: string;
  target: string;
  /** The source link-layer address option, when present. */
  sourceLinkAddress: string | null;
}

function checksum(src: Buffer, dst: Buffer, icmp: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = ICMPV6;
  let sum = 0;
  const add = (b: Buffer) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) + (i + 1 < b.length ? b[i + 1] : 0);
  };
  add(pseudo);
  add(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Reads an Ethernet/IPv6 ICMPv6 neighbour solicitation (hop limit 255, valid checksum); null otherwise. */
export function parseNeighborSolicitation(frame: Buffer): NeighborSolicitation | null {
  if (frame.length < 14 + 40 + 24 || frame.readUInt16BE(12) !== ETH_P_IPV6) return null;
  const ip = frame.subarray(14);
  if (ip[0] >> 4 !== 6 || ip[6] !== ICMPV6 || ip[7] !== 255) return null;
  const len = ip.readUInt16BE(4);
  if (len < 24 || 40 + len > ip.length) return null;
  const icmp = ip.subarray(40, 40 + len);
  if (icmp[0] !== ND_NEIGHBOR_SOLICIT || icmp[1] !== 0) return null;
  if (checksum(ip.subarray(8, 24), ip.subarray(24, 40), icmp) !== 0) return null;
  let sourceLinkAddress: string | null = null;
  for (let o = 24; o + 8 <= icmp.length;) {
    const olen = icmp[o + 1] * 8;
    if (olen === 0) return null;
    if (icmp[o] === 1 && olen >= 8) sourceLinkAddress = macText(icmp.subarray(o + 2, o + 8));
    o += olen;
  }
  return {
    srcMAC: macText(frame.subarray(6, 12)),
    srcIP: ipText(ip.subarray(8, 24)),
    dstIP: ipText(ip.subarray(24, 40)),
    target: ipText(icmp.subarray(8, 24)),
    sourceLinkAddress,
  };
}

function neighborAdvert(ethDst: Buffer, mac: string, src: string, dst: string, target: string, solicited: boolean): Buffer {
  const icmp = Buffer.alloc(32);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = (solicited ? 0x40 : 0) | 0x20; // S and O (override) flags
  ipv6Bytes(target).copy(icmp, 8);
  icmp[24] = 2; // target link-layer address option
  icmp[25] = 1;
  macBytes(mac).copy(icmp, 26);
  const s = ipv6Bytes(src);
  const d = ipv6Bytes(dst);
  icmp.writeUInt16BE(checksum(s, d, icmp), 2);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(icmp.length, 4);
  h[6] = ICMPV6;
  h[7] = 255;
  s.copy(h, 8);
  d.copy(h, 24);
  return ethernet(ethDst, macBytes(mac), ETH_P_IPV6, Buffer.concat([h, icmp]));
}

/** Multicast MAC of an IPv6 multicast address (33:33 + its last 32 bits). */
function multicastMAC(ip: string): Buffer {
  const b = Buffer.alloc(6);
  b[0] = 0x33;
  b[1] = 0x33;
  ipv6Bytes(ip).subarray(12).copy(b, 2);
  return b;
}

/**
 * The answer to a solicitation for `ns.target`. From duplicate address detection (source ::)
 * the answer goes to all-nodes without the S flag, as RFC 4861 7.2.4 says.
 */
export function neighborAdvertFor(ns: NeighborSolicitation, mac: string): Buffer {
  if (ns.srcIP === '::') return neighborAdvert(multicastMAC('ff02::1'), mac, ns.target, 'ff02::1', ns.target, false);
  const dstMAC = macBytes(ns.sourceLinkAddress ?? ns.srcMAC);
  return neighborAdvert(dstMAC, mac, ns.target, ns.srcIP, ns.target, true);
}

/** An unsolicited advertisement to all-nodes with the override flag: neighbours update the MAC. */
export function unsolicitedNeighborAdvert(ip: string, mac: string): Buffer {
  return neighborAdvert(multicastMAC('ff02::1'), mac, ip, 'ff02::1', ip, false);
}
