// What the figures were measured on: the machine, its kernel, its load, and the versions of
// everything that took part.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { round } from './stats.js';
import type { Machine } from './types.js';

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return (r.stdout || r.stderr).split('\n')[0].trim() || null;
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(kproxyVersion: string, haproxy: string | null): Omit<Machine, 'load'> {
  const tools: Record<string, string> = {};
  const nft = firstLine('nft', ['--version']);
  if (nft) tools.nft = nft;
  const ipt = firstLine('iptables', ['--version']);
  if (ipt) tools.iptables = ipt;
  if (haproxy) tools.haproxy = `HAProxy ${haproxy}`;
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: round(totalmem() / 2 ** 30, 1),
    kernel: `Linux ${release()}`,
    os: osName(),
    node: process.version,
    kproxy: kproxyVersion,
    tools,
  };
}

/** The load averages (1, 5, 15 min), as the kernel reports them. */
export const load = (): number[] => loadavg().map((x) => round(x, 2));
