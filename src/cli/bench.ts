// `kproxy bench`: the cross-mode benchmark (src/bench/). This file only reads the flags.
import type { Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { KPROXY_VERSION } from './version.js';

const list = (flag: string, text: string, positive = true): number[] => {
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || (positive && x <= 0))) throw new ConfigError(flag, `expected a comma-separated list of positive whole numbers, got "${text}"`);
  return xs;
};

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'Measure every mode at several cluster sizes in one run, in network namespaces it creates and removes (needs root): ' +
        'full and partial sync time, RSS, first-packet latency to the first and the last Service, request latency on a kept-alive connection ' +
        'and CPU per connection, each beside a direct connection to the Pod, with HAProxy as the reference for the userspace mode. ' +
        'ipvs is measured in a user-mode-Linux guest when the guest benchmark is built in. ' +
        "With --kube-proxy PATH, a kube-proxy binary (built by you: none is shipped) is measured in its iptables mode against the same cluster, served by a list/watch API server in the bench's node namespace. " +
        "Checked here only with `kproxy run` standing in for that binary: upstream kube-proxy itself was not run by kproxy's own tests.",
    )
    .option('--sizes <list>', 'Services per cluster, comma-separated (each with --endpoints endpoints)', '100,1000,10000,30000')
    .option('--endpoints <n>', 'endpoints per Service', '10')
    .option('--modes <list>', 'modes to measure, comma-separated', 'userspace,nftables,iptables,ebpf,ipvs')
    .option('--guest-sizes <list>', 'Services per cluster in the ipvs guest (user-mode Linux: one slow CPU)', '100')
    .option('--json', 'print the raw figures as one JSON object instead of tables')
    .option('--report <dir>', 'also write a report there: README.md with tables and SVG charts, and results.json')
    .option('--from-json <file>', 'measure nothing: render the tables (and --report) from the JSON of an earlier run')
    .option('--no-haproxy', 'leave out the HAProxy reference')
    .option('--no-guest', 'leave out the ipvs guest')
    .option('--samples <n>', 'new connections per target for first-packet latency and for CPU per connection (requests on the kept-alive connection: 5 times as many)', '300')
    .option('--kube-proxy <path>', 'also measure this kube-proxy binary (iptables mode, same cluster, through a test API server) as a reference; with --modes "" only it')
    .option('--max-sync-seconds <s>', 'do not start a size whose full sync, scaled from the size before, would take longer', '120')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { benchCommand } = await import('../bench/command.js');
      await benchCommand({
        sizes: list('--sizes', String(o.sizes)),
        endpoints: list('--endpoints', String(o.endpoints))[0],
        modes: String(o.modes)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        json: o.json === true,
        report: typeof o.report === 'string' ? o.report : null,
        fromJson: typeof o.fromJson === 'string' ? o.fromJson : null,
        haproxy: o.haproxy !== false,
        guest: o.guest !== false,
        guestSizes: list('--guest-sizes', String(o.guestSizes)),
        maxSyncSeconds: list('--max-sync-seconds', String(o.maxSyncSeconds))[0],
        samples: list('--samples', String(o.samples))[0],
        kproxyVersion: KPROXY_VERSION,
        kubeProxy: typeof o.kubeProxy === 'string' ? o.kubeProxy : null,
      });
    });
}
