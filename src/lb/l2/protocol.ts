// Messages between the layer-2 responder (main thread) and its worker thread.
import type { IPFamily } from '../../api/ip.js';

export interface OwnedAddress {
  ip: string;
  family: IPFamily;
  /** Interfaces to answer on; [] = every Ethernet interface that is up. */
  interfaces: string[];
}

export type ToWorker = { type: 'table'; addresses: OwnedAddress[] } | { type: 'stop' };

export interface AddressCounters {
  requestsReceived: number;
  responsesSent: number;
  gratuitousSent: number;
}

export type FromWorker =
  { type: 'ready' } | { type: 'error'; message: string } | { type: 'counters'; counters: Record<string, AddressCounters> } | { type: 'gratuitous'; ip: string; interfaces: string[] };
