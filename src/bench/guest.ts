// The ipvs column. This host's kernel may have no IPVS (the ipvs mode then falls back to
// iptables, which would measure iptables twice), so ipvs is measured in a user-mode-Linux
// guest that has it, beside iptables (iptables-legacy: the guest kernel has no nftables) in
// the same guest, by the guest benchmark bench/ipvs/guest-bench.ts. That benchmark is a module
// of the repository, not of the kproxy package: it is loaded from the build
// (dist/bench/ipvs/guest-bench.js) when present, and its figures are translated here into
// the report's shape. Without it, the guest section says why it was not measured.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GuestSection, ModeResult, SizeResult, Traffic } from './types.js';

const MODULE = new URL('../../bench/ipvs/guest-bench.js', import.meta.url);

interface Percentiles {
  p50Us: number;
  p99Us: number;
}
/** What runIpvsGuestBench() returns (bench/ipvs/guest-bench.ts), as far as the report reads it. */
export interface GuestFigures {
  skipped: string | null;
  guestKernel?: string;
  rows?: { mode: string; services: number; endpoints: number; fullMs?: number; fullCpuMs?: number; partialMs?: number; partialCpuMs?: number; rssMB?: number }[];
  /** With `traffic` (the bench's own measurement, src/bench/traffic.ts) from guests that have it. */
  latency?: { mode: string; services: number; n: number; first: Percentiles; last: Percentiles; direct: Percentiles; traffic?: Traffic }[];
  errors?: string[];
}
type RunGuest = (opts: { sizes: number[]; endpoints?: number; connects?: number; timeoutS?: number; onLog?: (text: string) => void }) => Promise<GuestFigures>;

const pct = (p: Percentiles, n: number) => ({ p50: p.p50Us, p99: p.p99Us, n });

/** The guest benchmark's figures in the report's shape: ipvs, and iptables on its legacy backend. */
export function guestModes(f: GuestFigures, sizes: number[], endpoints: number): ModeResult[] {
  const modes = [...new Set([...(f.rows ?? []).map((r) => r.mode), 'ipvs', 'iptables-legacy'])];
  return modes.map((guestMode) => ({
    mode: guestMode === 'iptables-legacy' ? 'iptables' : guestMode,
    status: 'measured' as const,
    sizes: sizes.map((n): SizeResult => {
      const row = f.rows?.find((r) => r.mode === guestMode && r.services === n);
      const lat = f.latency?.find((l) => l.mode === guestMode && l.services === n);
      const error = f.errors?.find((e) => e.startsWith(`${guestMode} ${n}`)) ?? f.errors?.[0];
      if (!row) return { services: n, endpoints, status: 'failed', reason: error ?? 'the guest returned no figures for this size' };
      return {
        services: n,
        endpoints,
        status: 'measured',
        variant: guestMode === 'iptables-legacy' ? 'iptables-legacy' : null,
        fullSyncMs: row.fullMs,
        fullSyncCpuMs: row.fullCpuMs,
        partialSyncMs: row.partialMs,
        partialSyncCpuMs: row.partialCpuMs,
        rssMB: row.rssMB,
        ...(lat?.traffic ?? (lat ? { firstPacket: { first: pct(lat.first, lat.n), last: pct(lat.last, lat.n), direct: pct(lat.direct, lat.n) } } : {})),
      };
    }),
  }));
}

export async function measureGuestSection(sizes: number[], endpoints: number, timeoutS: number, onProgress: (line: string) => void): Promise<GuestSection> {
  if (!existsSync(fileURLToPath(MODULE))) {
    return { status: 'not measured', reason: 'the guest benchmark (bench/ipvs/guest-bench.ts, which boots a user-mode-Linux kernel with IPVS) is not in this build' };
  }
  let run: RunGuest | undefined;
  try {
    run = ((await import(MODULE.href)) as { runIpvsGuestBench?: RunGuest }).runIpvsGuestBench;
  } catch (e) {
    return { status: 'not measured', reason: `the guest benchmark could not be loaded: ${(e as Error).message}` };
  }
  if (typeof run !== 'function') return { status: 'not measured', reason: 'bench/ipvs/guest-bench.js exports no runIpvsGuestBench()' };
  try {
    const f = await run({ sizes, endpoints, timeoutS, onLog: (t) => t.split('\n').filter(Boolean).forEach(onProgress) });
    if (f.skipped) return { status: 'not measured', reason: f.skipped };
    if (!f.rows?.length) return { status: 'not measured', reason: `the guest measured nothing: ${(f.errors ?? []).join('; ').slice(0, 300) || 'no figures'}` };
    return { status: 'measured', kernel: `Linux ${f.guestKernel ?? '?'} (user-mode Linux, one CPU)`, modes: guestModes(f, sizes, endpoints) };
  } catch (e) {
    return { status: 'not measured', reason: `the guest benchmark failed: ${(e as Error).message.split('\n')[0]}` };
  }
}
