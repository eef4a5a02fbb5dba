// The ipvs column. This host's kernel may have no IPVS (the ipvs mode then falls back to
// iptables, which would measure iptables twice), so ipvs is measured in a user-mode-Linux
// guest that has it, beside iptables and nftables in the same guest, by the guest benchmark
// in bench/ipvs/. That benchmark is a module of the repository, not of the kproxy package:
// it is loaded from the build (dist/bench/ipvs/guest.js) when present, and it must export
//
//   measureGuest(opts: { sizes: number[]; endpoints: number; onProgress?: (line: string) => void })
//     : Promise<{ kernel: string; modes: ModeResult[] }>
//
// with ModeResult as in types.ts. Without it, the guest section says why it was not measured.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GuestSection, ModeResult } from './types.js';

const MODULE = new URL('../../bench/ipvs/guest.js', import.meta.url);

type MeasureGuest = (opts: { sizes: number[]; endpoints: number; onProgress?: (line: string) => void }) => Promise<unknown>;

/** Whether a value has the shape of a guest result (checked, since it comes from another module). */
export function readGuestResult(v: unknown): { kernel: string; modes: ModeResult[] } | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as { kernel?: unknown; modes?: unknown };
  if (typeof o.kernel !== 'string' || !Array.isArray(o.modes)) return null;
  const ok = o.modes.every(
    (m: unknown) => !!m && typeof m === 'object' && typeof (m as ModeResult).mode === 'string' && Array.isArray((m as ModeResult).sizes),
  );
  return ok ? { kernel: o.kernel, modes: o.modes as ModeResult[] } : null;
}

export async function measureGuestSection(sizes: number[], endpoints: number, onProgress: (line: string) => void): Promise<GuestSection> {
  if (!existsSync(fileURLToPath(MODULE))) {
    return {
      status: 'not measured',
      reason: 'the guest benchmark (bench/ipvs/guest.ts, which boots a user-mode-Linux kernel with IPVS) is not in this build',
    };
  }
  let mod: { measureGuest?: MeasureGuest };
  try {
    mod = (await import(MODULE.href)) as { measureGuest?: MeasureGuest };
  } catch (e) {
    return { status: 'not measured', reason: `the guest benchmark could not be loaded: ${(e as Error).message}` };
  }
  if (typeof mod.measureGuest !== 'function') {
    return { status: 'not measured', reason: 'bench/ipvs/guest.js exports no measureGuest() function' };
  }
  try {
    const r = readGuestResult(await mod.measureGuest({ sizes, endpoints, onProgress }));
    if (!r) return { status: 'not measured', reason: 'the guest benchmark returned figures in a shape this report does not read' };
    return { status: 'measured', kernel: r.kernel, modes: r.modes };
  } catch (e) {
    return { status: 'not measured', reason: `the guest benchmark failed: ${(e as Error).message.split('\n')[0]}` };
  }
}
