// What `kproxy bench` does with its flags: measure (or read an earlier run's JSON), print
// the tables or the JSON, and write the report.
import { accessSync, constants, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, fsReason } from '../util/errors.js';
import { CHARTS, renderSvg } from './charts.js';
import { ALL_MODES } from './preflight.js';
import { renderReport, renderTables } from './report.js';
import { runBench } from './run.js';
import { destroyAll } from './topology.js';
import type { BenchResults } from './types.js';

export interface BenchCommand {
  sizes: number[];
  endpoints: number;
  modes: string[];
  json: boolean;
  report: string | null;
  fromJson: string | null;
  haproxy: boolean;
  guest: boolean;
  guestSizes: number[];
  maxSyncSeconds: number;
  samples: number;
  kproxyVersion: string;
  /** A kube-proxy binary to measure as a reference (null: none). */
  kubeProxy: string | null;
}

/** The --kube-proxy binary as an absolute path, or a one-line error saying why it cannot run. */
export function checkBinary(path: string): string {
  const abs = resolve(path);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new ConfigError('--kube-proxy', `${path}: no such file`);
  }
  if (!st.isFile()) throw new ConfigError('--kube-proxy', `${path}: not a file`);
  try {
    accessSync(abs, constants.X_OK);
  } catch {
    throw new ConfigError('--kube-proxy', `${path}: not executable (chmod +x)`);
  }
  return abs;
}

function readResults(file: string): BenchResults {
  let r: BenchResults;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError('--from-json', `${file}: no such file`);
    if (code) throw new ConfigError('--from-json', `${file}: cannot read it (${fsReason(e)})`);
    throw new ConfigError('--from-json', `${file} is not JSON: ${(e as Error).message}`);
  }
  if (!r || typeof r !== 'object' || !Array.isArray(r.modes) || !r.machine) throw new ConfigError('--from-json', `${file} is not the JSON of kproxy bench`);
  return r;
}

export async function writeReport(r: BenchResults, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const c of CHARTS) writeFileSync(join(dir, c.file), await renderSvg(c.spec(r)));
  writeFileSync(join(dir, 'results.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(join(dir, 'README.md'), renderReport(r));
}

export async function benchCommand(o: BenchCommand): Promise<void> {
  const unknown = o.modes.filter((m) => !(ALL_MODES as readonly string[]).includes(m));
  if (unknown.length) throw new ConfigError('--modes', `unknown mode ${unknown.join(', ')} (modes: ${ALL_MODES.join(', ')})`);
  // Without root every mode would be listed as "not measured" under empty tables, and the run
  // would still exit 0: say it once instead.
  if (!o.fromJson && process.getuid?.() !== 0) throw new ConfigError('', 'bench builds network namespaces and needs root; run it as root, or give --from-json FILE to render an earlier run');
  const kubeProxy = o.kubeProxy && !o.fromJson ? checkBinary(o.kubeProxy) : null;
  // Interrupted: remove the namespaces (and the processes in them) before exiting.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nkproxy bench: ${sig}: removing the bench's namespaces\n`);
      void destroyAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
  const results = o.fromJson
    ? readResults(o.fromJson)
    : await runBench({
        sizes: o.sizes,
        endpoints: o.endpoints,
        modes: o.modes,
        haproxy: o.haproxy,
        guest: o.guest,
        guestSizes: o.guestSizes,
        guestTimeoutS: 1200,
        kproxyVersion: o.kproxyVersion,
        maxFullSyncMs: o.maxSyncSeconds * 1000,
        workerTimeoutMs: 20 * 60_000,
        traffic: { connects: o.samples, requests: 5 * o.samples, cpuConnections: o.samples },
        kubeProxy,
        quiet: o.json,
      });
  if (o.report) await writeReport(results, o.report);
  process.stdout.write(o.json ? JSON.stringify(results, null, 2) + '\n' : renderTables(results));
  if (o.report) process.stderr.write(`kproxy bench: report written to ${join(o.report, 'README.md')}\n`);
}
