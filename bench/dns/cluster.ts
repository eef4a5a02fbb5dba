// The benchmark's cluster: N ClusterIP Services with one named port each, spread over 100
// namespaces, as Kubernetes objects (fed through the real ChangeTracker) and as a hosts file.
import type { KubeObject } from '../../src/api/types.js';

export interface BenchService {
  name: string;
  namespace: string;
  ip: string;
  fqdn: string;
}

export function benchServices(n: number, zone = 'cluster.local'): BenchService[] {
  return Array.from({ length: n }, (_, i) => {
    const namespace = `ns-${i % 100}`;
    const name = `svc-${i}`;
    const ip = `10.96.${(i + 1) >> 8}.${(i + 1) & 255}`;
    return { name, namespace, ip, fqdn: `${name}.${namespace}.svc.${zone}` };
  });
}

export function serviceObject(s: BenchService): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace },
    spec: { clusterIP: s.ip, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
}

/** The same A records in /etc/hosts form, for dnsmasq's --addn-hosts. */
export function hostsFile(services: BenchService[]): string {
  return services.map((s) => `${s.ip} ${s.fqdn}\n`).join('');
}

/** A dnsperf data file: every name once, type A, in a shuffled (seeded) order. */
export function queryFile(services: BenchService[]): string {
  const names = services.map((s) => s.fqdn);
  let seed = 12345;
  for (let i = names.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [names[i], names[j]] = [names[j], names[i]];
  }
  return names.map((n) => `${n} A\n`).join('');
}
