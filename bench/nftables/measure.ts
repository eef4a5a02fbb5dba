// The nftables benchmark's measuring functions, exported for any harness that compares modes.
// Each runs inside a network namespace of the caller's (the caller checks): nft and the
// netlink writer program whatever namespace the process is in.
import { spawn } from 'node:child_process';
import { execWith } from '../../src/util/exec.js';
import { posixSpawnLauncher } from '../../src/util/launch.js';
import { createRequire } from 'node:module';
import type { Config } from '../../src/config/types.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import type { ChangeTracker } from '../../src/model/tracker.js';
import type { ProxyState } from '../../src/model/types.js';
import { silentLogger } from '../../src/util/log.js';
import { msSince as ms } from '../../src/bench/stats.js';
import { sliceObject } from './services.js';

export { median, msSince as ms } from '../../src/bench/stats.js';

/** A 2-element transaction on kproxy's table: what one small change costs nft by itself. */
export const PROBE_TEXT = 'add element ip kproxy cluster-ips { 10.111.255.254 }\ndelete element ip kproxy cluster-ips { 10.111.255.254 }\n';

/**
 * `nft -f -` run by itself on a text: the reference a sync is compared with. Run under bash
 * so that `times` reports nft's CPU time (user + system, ms), which load inflates less. Started
 * as kproxy starts its own commands (posix_spawn, src/util/launch.ts): a fork of this large
 * process is no part of nft's cost, and it would leave the process copy-on-write, so that the
 * next kproxy sync paid the faults.
 */
export async function bareNft(text: string): Promise<{ wallMs: number; cpuMs: number }> {
  const t0 = process.hrtime.bigint();
  const r = await execWith(posixSpawnLauncher(), 'bash', ['-c', 'nft -f - || exit 1; times'], { input: text, timeoutMs: 1_800_000, maxOutputBytes: 1 << 20 });
  const wallMs = ms(t0);
  if (r.code !== 0) throw new Error(`nft exit ${r.code ?? r.signal}: ${r.stderr.slice(0, 500)}`);
  return { wallMs, cpuMs: timesCpuMs(r.stdout) };
}

/** bash's `times`: the children's user and system time, the last line. */
function timesCpuMs(out: string): number {
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(out.trim());
  return m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
}

/** The reference as it was started before (child_process: a fork of this process), printed beside bareNft's. */
export function bareNftForked(text: string): Promise<{ wallMs: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', 'nft -f - || exit 1; times'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => {
      const wallMs = ms(t0);
      if (code !== 0) return reject(new Error(`nft exit ${code}`));
      resolve({ wallMs, cpuMs: timesCpuMs(out) });
    });
    child.stdin.end(text);
  });
}

export interface FullSyncFigures {
  fullMs: number[];
  bareMs: number[];
  kproxyCpuMs: number[];
  kproxyFaults: number[];
  nftCpuMs: number[];
  /** The reference started as before (bareNftForked), measured after kproxy's rounds. */
  forkedBareMs: number[];
  forkedNftCpuMs: number[];
}

/**
 * Alternating rounds of a starting kproxy's first sync (a fresh dataplane: compile, write,
 * nft -f, replace) and a bare `nft -f` of the same text (`text`, as `kproxy rules` prints it).
 */
export async function measureFullSync(state: ProxyState, config: Config, text: string, rounds: number): Promise<FullSyncFigures> {
  const f: FullSyncFigures = { fullMs: [], bareMs: [], kproxyCpuMs: [], kproxyFaults: [], nftCpuMs: [], forkedBareMs: [], forkedNftCpuMs: [] };
  for (let round = 0; round < rounds; round++) {
    const fresh = new NftablesDataplane(config, silentLogger(), new ProxyMetrics().registry, { elements: null });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const faults0 = process.resourceUsage().minorPageFault;
    await fresh.sync(state, true);
    f.fullMs.push(ms(t0));
    const c = process.cpuUsage(c0);
    f.kproxyCpuMs.push((c.user + c.system) / 1000);
    f.kproxyFaults.push(process.resourceUsage().minorPageFault - faults0);
    const bare = await bareNft(text);
    f.bareMs.push(bare.wallMs);
    f.nftCpuMs.push(bare.cpuMs);
  }
  for (let round = 0; round < rounds; round++) {
    const bare = await bareNftForked(text);
    f.forkedBareMs.push(bare.wallMs);
    f.forkedNftCpuMs.push(bare.cpuMs);
  }
  return f;
}

/**
 * Partial syncs after one EndpointSlice change each (same endpoint count, new addresses), on
 * a dataplane that has synced `tracker`'s state; returns each sync's time and who wrote it.
 */
export async function measurePartialSync(dp: NftablesDataplane, tracker: ChangeTracker, n: number, endpoints: number, runs = 7): Promise<{ ms: number[]; cpuMs: number[]; writers: string[] }> {
  const out = { ms: [] as number[], cpuMs: [] as number[], writers: [] as string[] };
  for (let k = 1; k <= runs; k++) {
    tracker.upsert(sliceObject(Math.floor(n / 2), n, endpoints, k * 7919) as never);
    const s = tracker.snapshot();
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await dp.sync(s, false);
    out.ms.push(ms(t0));
    const c = process.cpuUsage(c0); // user + system: the kernel's work on the batch counts too
    out.cpuMs.push((c.user + c.system) / 1000);
    if (dp.lastSync.kind !== 'partial') throw new Error(`expected a partial sync, got ${dp.lastSync.kind}`);
    out.writers.push(dp.lastSync.writer ?? 'none');
  }
  return out;
}

/**
 * The same small transaction through libnftables (libnftables.so.1, through koffi) with one
 * context kept across calls: the other resident writer considered. null when the library is
 * not there. Its cache does not survive a commit (the generation id changes), so each call
 * lists the table's chains again.
 */
export function measureLibnftables(text: string, runs = 7): number[] | null {
  let run: (text: string) => number;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(p: string): { func(sig: string): (...a: unknown[]) => unknown } };
    const lib = koffi.load('libnftables.so.1');
    const ctx = lib.func('void *nft_ctx_new(uint32_t flags)')(0);
    lib.func('int nft_ctx_buffer_output(void *ctx)')(ctx);
    lib.func('int nft_ctx_buffer_error(void *ctx)')(ctx);
    const cmd = lib.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)');
    run = (t) => cmd(ctx, t) as number;
  } catch {
    return null;
  }
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    if (run(text) !== 0) throw new Error('libnftables refused the probe transaction');
    out.push(ms(t0));
  }
  return out;
}
