// Churn in a manifests folder: Services added and removed, files rewritten with garbage,
// alias bombs, deep JSON, truncated files, symlink loops, bad names, and Pods whose readiness
// probes fail. One edit per call, from a rotating list.
import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const svc = (name: string, ip: string, protocol = 'TCP', port = 80) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: soak}\nspec: {clusterIP: ${ip}, ports: [{name: p, port: ${port}, protocol: ${protocol}}]}\n`;
export const slice = (name: string, ip: string, port: number, protocol = 'TCP') =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}-1, namespace: soak, labels: {kubernetes.io/service-name: ${name}}}\naddressType: IPv4\nendpoints: [{addresses: [${ip}], conditions: {ready: true}}]\nports: [{name: p, port: ${port}, protocol: ${protocol}}]\n`;

function bomb(): string {
  const l = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: laughs, namespace: soak}', 'data:', '  a0: &a0 "lol"'];
  for (let i = 1; i <= 9; i++)
    l.push(
      `  a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return l.join('\n') + '\n';
}

export class FolderChurn {
  private n = 0;
  edits = 0;
  constructor(private readonly dir: string) {}

  write(file: string, text: string): void {
    mkdirSync(dirname(join(this.dir, file)), { recursive: true });
    writeFileSync(join(this.dir, file), text);
  }

  /** Makes the next edit of the rotation. */
  next(): void {
    const n = this.n++;
    const edits: (() => void)[] = [
      () => this.write(`churn/s${n % 50}.yaml`, svc(`s${n % 50}`, `127.96.51.${(n % 50) + 1}`)),
      () => rmSync(join(this.dir, `churn/s${(n + 25) % 50}.yaml`), { force: true }),
      () => this.write('bad/garbage.yaml', `kind: Service\nmetadata: {name: [${n}\n`),
      () => this.write('bad/bomb.yaml', bomb()),
      () => this.write('bad/deep.json', `{"kind":"Service","metadata":{"name":"deep"},"spec":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`),
      () => {
        this.write('bad/trunc.yaml', svc('trunc', '127.96.52.1'));
        truncateSync(join(this.dir, 'bad/trunc.yaml'), 0);
      },
      () => {
        rmSync(join(this.dir, 'bad/loop'), { force: true });
        symlinkSync('.', join(this.dir, 'bad/loop'));
      },
      () =>
        this.write(
          `pods/p${n % 10}.yaml`,
          `apiVersion: v1\nkind: Pod\nmetadata: {name: p${n % 10}, namespace: soak, labels: {app: flaky}}\nspec:\n  nodeName: soak-node\n  containers: [{name: c, ports: [{containerPort: 9}], readinessProbe: {tcpSocket: {port: 9}, periodSeconds: 1}}]\nstatus: {podIP: 127.0.78.${(n % 10) + 1}}\n`,
        ),
      () =>
        this.write(
          'flaky.yaml',
          `apiVersion: v1\nkind: Service\nmetadata: {name: flaky, namespace: soak}\nspec: {clusterIP: 127.96.53.1, selector: {app: flaky}, ports: [{port: 80, targetPort: 9}]}\n`,
        ),
      () => this.write('bad/badname.yaml', svc('Bad_Name', '127.96.54.1')),
    ];
    try {
      edits[n % edits.length]();
      this.edits++;
    } catch (e) {
      console.error('edit failed', (e as Error).message);
    }
  }
}
