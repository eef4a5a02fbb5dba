// The ipvs benchmark, as a function other harnesses call: it boots Debian's user-mode-Linux
// kernel (which has IPVS; see test/kernel/uml/launcher.ts for its safety rules), measures the
// ipvs mode and, in the same guest and the same run, iptables mode on the iptables-legacy
// backend (the guest kernel has no nf_tables ip/inet family, so neither iptables-nft nor the
// nftables mode can run there), and returns the figures.
//
//   import { runIpvsGuestBench } from '…/dist/bench/ipvs/guest-bench.js';
//   const r = await runIpvsGuestBench({ sizes: [1000, 10000] });
//
// Needs root, the user-mode-linux package and a build; otherwise it returns { skipped: "why" }.
// The result is plain JSON:
// {
//   "skipped": null | "why the guest cannot run here",
//   "guestKernel": "6.1.176",          // one CPU, slow syscalls (UML runs on ptrace)
//   "hostLoad": [1, 5, 15],            // host load averages at the start
//   "wallMs": 123456,                  // boot to power-off
//   "sizes": [1000, 10000], "endpoints": 10, "connects": 200,
//   "rows": [{                         // one per mode and size
//     "mode": "ipvs" | "iptables-legacy", "services": 1000, "endpoints": 10,
//     "fullMs": …,      // first sync from an empty kernel, kproxy's own applier
//     "bareFullMs": …,  // the same kernel input applied by the bare tools (the reference)
//     "fullCpuMs": …, "bareFullCpuMs": …,
//     "partialMs": …,   // one EndpointSlice changed (median)
//     "barePartialMs": …, // ipvs: time spent in the tools during that sync; iptables: the same input restored bare
//     "rssMB": …,       // the worker's RSS (the model, compiled ruleset and applier state)
//     "resyncMs": …, "cleanupMs": …   // ipvs only: full sync with nothing to change; `kproxy cleanup`
//     … (more fields; see bench/ipvs/worker.ts and bench/iptables/worker.ts)
//   }],
//   "latency": [{                      // first-packet latency: TCP handshake from the client namespace
//     "mode": …, "services": 1000, "n": 200,
//     "first":  { "p50Us": …, "p99Us": … },  // to the first Service's ClusterIP
//     "last":   { "p50Us": …, "p99Us": … },  // to the last Service's ClusterIP
//     "direct": { "p50Us": …, "p99Us": … },  // straight to the pod: the reference
//     "traffic": { … }   // the same, with the kept-alive round trip and CPU per connection (src/bench/types.ts Traffic)
//   }],
//   "errors": ["mode size: what failed"],
//   "modeMs": { "ipvs": …, "iptables-legacy": … }
// }
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Traffic } from '../../src/bench/types.js';
import { PROJECT_ROOT, runInUml, umlSkipReason } from '../../test/kernel/uml/launcher.js';

export type GuestMode = 'ipvs' | 'iptables-legacy';

export interface IpvsGuestBenchOptions {
  sizes: number[];
  endpoints?: number;
  modes?: GuestMode[];
  /** TCP connections per latency target. */
  connects?: number;
  /** Full syncs per size (the median is kept). */
  rounds?: number;
  /** EndpointSlice changes per size (the median is kept). */
  partials?: number;
  /** Guest RAM. */
  memMB?: number;
  timeoutS?: number;
  /** Each line the guest printed, as it finished (progress). */
  onLog?: (text: string) => void;
}

export interface Percentiles {
  p50Us: number;
  p99Us: number;
}

export interface IpvsGuestBench {
  skipped: string | null;
  guestKernel?: string;
  hostLoad: number[];
  wallMs: number;
  sizes: number[];
  endpoints: number;
  connects: number;
  rows: ({ mode: GuestMode; services: number; endpoints: number; fullMs: number; bareFullMs: number; partialMs: number; barePartialMs: number; rssMB: number } & Record<string, unknown>)[];
  latency: { mode: GuestMode; services: number; n: number; first: Percentiles; last: Percentiles; direct: Percentiles; traffic?: Traffic }[];
  errors: string[];
  modeMs: Record<string, number>;
}

export async function runIpvsGuestBench(opts: IpvsGuestBenchOptions): Promise<IpvsGuestBench> {
  const endpoints = opts.endpoints ?? 10;
  const connects = opts.connects ?? 200;
  const base = { hostLoad: loadavg().map((x) => +x.toFixed(1)), wallMs: 0, sizes: opts.sizes, endpoints, connects, rows: [], latency: [], errors: [], modeMs: {} };
  const skipped = umlSkipReason()?.replace('the ipvs kernel suite', 'the ipvs benchmark');
  if (skipped) return { skipped, ...base };
  const out = mkdtempSync(join(tmpdir(), 'kproxy-ipvs-bench-'));
  try {
    const run = await runInUml({
      script: join(PROJECT_ROOT, 'bench', 'ipvs', 'guest.sh'),
      outDir: out,
      memMB: opts.memMB ?? 2048,
      timeoutS: opts.timeoutS ?? 3600,
      env: {
        BENCH_SIZES: opts.sizes.join(','),
        BENCH_ENDPOINTS: String(endpoints),
        BENCH_MODES: (opts.modes ?? ['ipvs', 'iptables-legacy']).join(','),
        BENCH_CONNECTS: String(connects),
        BENCH_ROUNDS: String(opts.rounds ?? 1),
        BENCH_PARTIALS: String(opts.partials ?? 3),
      },
    });
    opts.onLog?.(run.log);
    let figures: Partial<IpvsGuestBench> = {};
    try {
      figures = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as Partial<IpvsGuestBench>;
    } catch {
      figures = { errors: [`the guest wrote no figures (rc ${run.rc}); its output ends:\n${run.log.slice(-1500)}\n${run.console.slice(-1000)}`] };
    }
    if (run.rc !== 0) (figures.errors ??= []).push(`the guest's benchmark exited ${run.rc}`);
    return { ...base, ...figures, skipped: null, wallMs: Math.round(run.wallMs) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
