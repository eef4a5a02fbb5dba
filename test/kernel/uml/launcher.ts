// Boots Debian's user-mode-Linux kernel (which has IPVS) as an ordinary host process and runs
// one shell script inside it, as test/kernel/uml/init.sh describes. Safety, in short: the
// guest's root is the host's / mounted read-only, its scratch space is a tmpfs, exactly one
// host folder (outDir) is writable, there is no network card (no `ethN=`), it powers off with
// reboot(2), never sysrq, and the whole run is under `timeout` with core dumps off.
// The test's result is the rc file the guest writes, never linux.uml's exit code.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = join(HERE, '..', '..', '..', '..');
export const UML_DIR = join(PROJECT_ROOT, 'test', 'kernel', 'uml');
const LINUX_UML = '/usr/bin/linux.uml';
const UML_MODULES = '/usr/lib/uml/modules';

/** Why a UML guest cannot run here, or null when it can. */
export function umlSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'the ipvs kernel suite needs root (to read root-owned host files in the guest); skipped';
  if (!existsSync(LINUX_UML) || !existsSync(UML_MODULES)) return 'the ipvs kernel suite needs the user-mode-linux package (scripts/setup.sh installs it); skipped';
  for (const [bin, pkg] of [
    ['/usr/sbin/ipvsadm', 'ipvsadm'],
    ['/usr/sbin/ipset', 'ipset'],
    ['/usr/sbin/modprobe', 'kmod'],
    ['/usr/sbin/iptables-legacy', 'iptables'],
    ['/usr/sbin/conntrack', 'conntrack'],
    ['/usr/bin/python3', 'python3'],
  ]) {
    if (!existsSync(bin)) return `the ipvs kernel suite needs ${bin} (package ${pkg}; scripts/setup.sh installs it); skipped`;
  }
  if (!existsSync(join(PROJECT_ROOT, 'dist'))) return 'the ipvs kernel suite needs a build (npm run build); skipped';
  return null;
}

export interface UmlRun {
  /** The guest script's exit code; null when the guest never finished. */
  rc: number | null;
  /** The guest script's output. */
  log: string;
  /** The guest console (kernel and init messages). */
  console: string;
  wallMs: number;
}

export interface UmlOptions {
  /** Absolute path of a POSIX sh script to run as root in the guest. */
  script: string;
  /** The one writable host folder; created; the guest sees it as /run/out. */
  outDir: string;
  /** More KEY=VALUE for the guest script's environment (no spaces anywhere). */
  env?: Record<string, string>;
  timeoutS?: number;
  memMB?: number;
}

export async function runInUml(opts: UmlOptions): Promise<UmlRun> {
  mkdirSync(opts.outDir, { recursive: true });
  const out = realpathSync(opts.outDir);
  const script = realpathSync(opts.script);
  const init = realpathSync(join(UML_DIR, 'init.sh'));
  for (const f of ['rc', 'test.log', 'console.log']) rmSync(join(out, f), { force: true });
  const extra = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const p of [out, script, init, ...extra]) {
    if (/\s/.test(p)) throw new Error(`user-mode Linux: no spaces allowed in guest parameters: ${p}`);
  }
  const args = [
    `mem=${opts.memMB ?? 512}M`,
    'root=/dev/root',
    'rootfstype=hostfs',
    'rootflags=/',
    'ro',
    'quiet',
    'con=null',
    'ssl=null',
    'con0=null,fd:1',
    `init=${init}`,
    `UML_TEST=${script}`,
    `UML_OUT=${out}`,
    ...extra,
  ];
  const t0 = performance.now();
  const consoleText = await new Promise<string>((resolve) => {
    // `ulimit -c 0`: a guest panic makes linux.uml abort(); no core files.
    const child = spawn('sh', ['-c', 'ulimit -c 0; exec timeout -k 5 "$0" "$@"', String(opts.timeoutS ?? 120), LINUX_UML, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: process.env.TMPDIR ?? '/tmp' },
    });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('close', () => resolve(text));
  });
  const wallMs = performance.now() - t0;
  const rcFile = join(out, 'rc');
  const rc = existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : null;
  const logFile = join(out, 'test.log');
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  return { rc, log, console: consoleText, wallMs };
}
