// The layer-2 responder's worker thread: owns the packet sockets, answers ARP requests and
// neighbour solicitations for the addresses this node announces, and announces takeovers
// (gratuitous ARP, unsolicited neighbour advertisements). Living in its own thread, it
// answers within a poll() wake-up whatever the main thread is busy with (a long sync, say).
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ethernetLinks, type LinkInfo } from './interfaces.js';
import { arpReply, ETH_P_ARP, ETH_P_IPV6, gratuitousArp, neighborAdvertFor, parseArp, parseNeighborSolicitation, unsolicitedNeighborAdvert } from './packets.js';
import type { AddressCounters, FromWorker, OwnedAddress, ToWorker } from './protocol.js';
import { PACKET_OUTGOING, PacketSocket } from './socket.js';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

/** Gratuitous announcements after a takeover: at once, then twice more (lost packets, slow peers). */
const GRATUITOUS_SCHEDULE_MS = [0, 500, 2000];
const LINKS_REFRESH_MS = 2000;
const POLL_MS = 50;

let owned = new Map<string, OwnedAddress>();
let links: LinkInfo[] = [];
let linksAt = 0;
let stopped = false;
const counters = new Map<string, AddressCounters>();
let countersDirty = false;
const pending: { at: number; ip: string }[] = [];

let arpSock: PacketSocket;
let ndSock: PacketSocket;
try {
  arpSock = PacketSocket.open(ETH_P_ARP);
  ndSock = PacketSocket.open(ETH_P_IPV6);
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
  process.exit(0);
}
const memberOf = new Set<number>();

function refreshLinks(force = false): void {
  const now = Date.now();
  if (!force && now - linksAt < LINKS_REFRESH_MS) return;
  linksAt = now;
  links = ethernetLinks().filter((l) => l.up);
  for (const l of links) {
    if (memberOf.has(l.ifindex)) continue;
    ndSock.allMulticast(l.ifindex);
    memberOf.add(l.ifindex);
  }
}

function count(ip: string, k: keyof AddressCounters): void {
  let c = counters.get(ip);
  if (!c) counters.set(ip, (c = { requestsReceived: 0, responsesSent: 0, gratuitousSent: 0 }));
  c[k]++;
  countersDirty = true;
}

function linksFor(a: OwnedAddress): LinkInfo[] {
  return a.interfaces.length === 0 ? links : links.filter((l) => a.interfaces.includes(l.name));
}

function handleArp(frame: Buffer, ifindex: number): void {
  const p = parseArp(frame);
  if (!p || p.op !== 'request') return;
  const a = owned.get(p.targetIP);
  if (!a || p.senderIP === p.targetIP) return; // somebody's own announcement, not a question
  const link = linksFor(a).find((l) => l.ifindex === ifindex);
  if (!link) return;
  count(a.ip, 'requestsReceived');
  if (arpSock.send(ifindex, arpReply(p, link.mac))) count(a.ip, 'responsesSent');
}

function handleND(frame: Buffer, ifindex: number): void {
  const ns = parseNeighborSolicitation(frame);
  if (!ns) return;
  const a = owned.get(ns.target);
  if (!a) return;
  const link = linksFor(a).find((l) => l.ifindex === ifindex);
  if (!link) return;
  count(a.ip, 'requestsReceived');
  if (ndSock.send(ifindex, neighborAdvertFor(ns, link.mac))) count(a.ip, 'responsesSent');
}

function announce(ip: string): void {
  const a = owned.get(ip);
  if (!a) return; // lost it again meanwhile
  const sent: string[] = [];
  for (const l of linksFor(a)) {
    const ok = a.family === 'IPv4' ? arpSock.send(l.ifindex, gratuitousArp(ip, l.mac)) : ndSock.send(l.ifindex, unsolicitedNeighborAdvert(ip, l.mac));
    if (ok) {
      count(ip, 'gratuitousSent');
      sent.push(l.name);
    }
  }
  if (sent.length > 0) post({ type: 'gratuitous', ip, interfaces: sent });
}

function setTable(addresses: OwnedAddress[]): void {
  refreshLinks(true);
  const next = new Map(addresses.map((a) => [a.ip, a]));
  const now = Date.now();
  for (const ip of next.keys()) if (!owned.has(ip)) for (const d of GRATUITOUS_SCHEDULE_MS) pending.push({ at: now + d, ip });
  owned = next;
  runPending();
}

function runPending(): void {
  const now = Date.now();
  for (let i = 0; i < pending.length;) {
    if (pending[i].at <= now) {
      announce(pending[i].ip);
      pending.splice(i, 1);
    } else i++;
  }
}

const buf = Buffer.alloc(2048);
function tick(): void {
  if (stopped) {
    arpSock.close();
    ndSock.close();
    port.close();
    return;
  }
  PacketSocket.wait([arpSock, ndSock], POLL_MS);
  // The main thread's messages before the frames: a table sent while this thread was
  // starting or waiting is in force for the requests that came meanwhile.
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) onMessage(m.message as ToWorker);
  for (let i = 0; i < 256; i++) {
    const r = arpSock.receive(buf);
    if (!r) break;
    if (r.pktType !== PACKET_OUTGOING) handleArp(r.frame, r.ifindex);
  }
  for (let i = 0; i < 256; i++) {
    const r = ndSock.receive(buf);
    if (!r) break;
    if (r.pktType !== PACKET_OUTGOING) handleND(r.frame, r.ifindex);
  }
  runPending();
  refreshLinks();
  setImmediate(tick);
}

let lastCounters = 0;
setInterval(() => {
  if (!countersDirty || Date.now() - lastCounters < 500) return;
  countersDirty = false;
  lastCounters = Date.now();
  post({ type: 'counters', counters: Object.fromEntries(counters) });
}, 500).unref();

function onMessage(m: ToWorker): void {
  if (m.type === 'table') setTable(m.addresses);
  else if (m.type === 'stop') stopped = true;
}
port.on('message', onMessage);

// The addresses given before the worker started (L2Responder.start) are in force at once.
setTable((workerData as { addresses: OwnedAddress[] }).addresses);
post({ type: 'ready' });
tick();
