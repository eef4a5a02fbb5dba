// The DNS benchmark's measurements (bench.ts), without side effects so that other harnesses
// can import them: dnsperf against one server, a process's CPU time and RSS from /proc.
import { spawn } from 'node:child_process';
import { cpuMs, rssBytes } from '../../src/bench/proc.js';

/** CPU seconds (user + system) a process has used so far (the cross-mode bench's reading, src/bench/proc.ts). */
export const cpuOfPid = (pid: number): number => cpuMs(pid) / 1000;

/** Resident memory of a process, MB (NaN once it is gone). */
export function rssOfPid(pid: number): number {
  const b = rssBytes(pid);
  return b > 0 ? b / 2 ** 20 : NaN;
}

export interface PerfResult {
  qps: number;
  lost: number;
  p50?: number;
  p99?: number;
}

/** One dnsperf run; with `rate`, a fixed offered load and per-query latencies (-v). */
export function dnsperf(host: string, port: number, data: string, seconds: number, rate?: number): Promise<PerfResult> {
  const args = ['-s', host, '-p', String(port), '-d', data, '-l', String(seconds), '-q', '100', '-c', '4', '-t', '2'];
  if (rate) args.push('-Q', String(rate), '-v');
  return new Promise((resolve, reject) => {
    const p = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lat: number[] = [];
    let summary = '';
    let rest = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith('> ')) {
          const v = Number(l.slice(l.lastIndexOf(' ') + 1));
          if (Number.isFinite(v)) lat.push(v);
        } else summary += l + '\n';
      }
    });
    p.stderr.on('data', () => {});
    p.on('error', reject);
    p.on('close', () => {
      summary += rest;
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(summary)?.[1] ?? NaN);
      const lost = Number(/Queries lost:\s+(\d+)/.exec(summary)?.[1] ?? NaN);
      if (!Number.isFinite(qps)) return reject(new Error(`dnsperf gave no result:\n${summary}`));
      lat.sort((a, b) => a - b);
      const pct = (q: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : NaN);
      resolve({ qps, lost, p50: rate ? pct(0.5) : undefined, p99: rate ? pct(0.99) : undefined });
    });
  });
}
