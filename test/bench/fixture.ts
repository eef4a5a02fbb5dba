// Fixed bench results for the report tests: two measured modes, one skipped, one size that
// failed, the references (kube-proxy measured at one size of two), and the guest not measured.
import type { BenchResults, SizeResult, Traffic } from '../../src/bench/types.js';

const s = (p50: number, p99: number) => ({ p50, p99, n: 300 });

export function traffic(lastP50: number, directP50: number): Traffic {
  return {
    firstPacket: { first: s(lastP50 - 5, 900), last: s(lastP50, 1000), direct: s(directP50, 800) },
    request: { service: s(60, 300), direct: s(50, 250) },
    cpuPerConnectionUs: { service: 300, direct: 200 },
  };
}

const size = (services: number, full: number, lastP50: number, extra: Partial<SizeResult> = {}): SizeResult => ({
  services,
  endpoints: 10,
  status: 'measured',
  fullSyncMs: full,
  fullSyncCpuMs: full / 2,
  partialSyncMs: 12.5,
  partialSyncCpuMs: 5,
  rssMB: 80,
  load1: 3.5,
  ...traffic(lastP50, 100),
  ...extra,
});

export function fixture(): BenchResults {
  return {
    format: 1,
    startedAt: '2026-12-04T06:30:00.000Z',
    finishedAt: '2026-12-04T06:55:00.000Z',
    durationS: 1500,
    options: { sizes: [100, 1000], endpoints: 10, modes: ['nftables', 'iptables', 'userspace', 'ipvs'] },
    machine: {
      cpu: 'Test CPU @ 2.00GHz',
      cores: 2,
      memoryGB: 7.8,
      kernel: 'Linux 6.18.44',
      os: 'Debian GNU/Linux 12 (bookworm)',
      node: 'v20.20.2',
      kproxy: '0.1.0',
      tools: { nft: 'nftables v1.0.6' },
      load: { start: [12.5, 10, 8], end: [14, 11, 9], min1: 11.2, max1: 17.9 },
    },
    modes: [
      { mode: 'nftables', status: 'measured', sizes: [size(100, 40, 110), size(1000, 200, 120)] },
      {
        mode: 'iptables',
        status: 'measured',
        sizes: [size(100, 80, 130, { variant: 'iptables-nft' }), { services: 1000, endpoints: 10, status: 'failed', reason: 'the sync worker failed (exit 1): boom' }],
      },
      { mode: 'userspace', status: 'skipped', reason: 'needs root (the bench builds network namespaces)', sizes: [] },
    ],
    references: [
      { name: 'HAProxy', status: 'measured', version: '2.6.12', traffic: traffic(150, 100) },
      {
        name: 'kube-proxy (iptables mode)',
        status: 'measured',
        version: 'Kubernetes v1.31.0',
        sizes: [
          size(100, 300, 140, { kernelRules: 2400, partialSyncMs: 45 }),
          { services: 1000, endpoints: 10, status: 'failed', reason: 'the sync worker failed (exit 1): /opt/kube-proxy did not report its first sync within 190 s' },
        ],
      },
    ],
    guest: { status: 'not measured', reason: 'the guest benchmark is not in this build' },
  };
}
