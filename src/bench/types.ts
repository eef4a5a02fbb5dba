// The bench's figures as `kproxy bench --json` prints them and the report reads them.
import type { Summary } from './stats.js';

export const REPORT_FORMAT = 1;

/** Traffic through one dataplane, each figure beside the direct connection measured in the same client run. */
export interface Traffic {
  /** TCP connect() handshake, µs, to the first and the last Service and straight to a Pod. */
  firstPacket: { first: Summary; last: Summary; direct: Summary };
  /** 64-byte request and its echo on a kept-alive connection, µs. */
  request: { service: Summary; direct: Summary };
  /**
   * CPU time per new connection (connect, 1 byte each way, close), µs: the client, the Pod
   * servers and every process in the node namespace (the proxy itself in userspace mode).
   * Kernel packet processing is counted where the kernel charges it: mostly to those
   * processes' system time.
   */
  cpuPerConnectionUs: { service: number; direct: number };
}

export interface SizeResult extends Partial<Traffic> {
  services: number;
  endpoints: number;
  status: 'measured' | 'skipped' | 'failed';
  reason?: string;
  /** What the mode ran on where it has a choice (iptables-nft, iptables-legacy). */
  variant?: string | null;
  fullSyncMs?: number;
  fullSyncCpuMs?: number;
  partialSyncMs?: number;
  partialSyncCpuMs?: number;
  rssMB?: number;
  /** Wall time the bench spent on this size: building the model and syncing, then traffic (s). */
  wallS?: { sync: number; traffic: number };
  /** Load average (1 min) when this size started. */
  load1?: number;
  /** Rules in the kernel after the first sync (iptables-save's -A lines; the kube-proxy reference). */
  kernelRules?: number;
  /** What a reader of the figures must know about how they were taken. */
  notes?: string[];
}

export interface ModeResult {
  mode: string;
  status: 'measured' | 'skipped';
  reason?: string;
  sizes: SizeResult[];
}

export interface Reference {
  name: string;
  status: 'measured' | 'skipped' | 'not built';
  reason?: string;
  version?: string;
  traffic?: Traffic;
  /** A proxy measured as the modes are, size by size (the kube-proxy reference). */
  sizes?: SizeResult[];
}

export interface GuestSection {
  status: 'measured' | 'not measured';
  reason?: string;
  /** The guest kernel (e.g. user-mode Linux 6.1). */
  kernel?: string;
  modes?: ModeResult[];
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGB: number;
  kernel: string;
  os: string;
  node: string;
  kproxy: string;
  tools: Record<string, string>;
  load: { start: number[]; end: number[]; min1: number; max1: number };
}

export interface BenchResults {
  format: number;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  options: { sizes: number[]; endpoints: number; modes: string[]; guestSizes?: number[] };
  machine: Machine;
  modes: ModeResult[];
  references: Reference[];
  guest: GuestSection;
}
