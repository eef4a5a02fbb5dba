// A live manifests source on a temporary folder, feeding a real ChangeTracker, as `kproxy run`
// wires them; tests read the ProxyState the dataplanes would get.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { ProxyState, ServicePortState } from '../../../src/model/types.js';
import { manifestsSource, type ManifestsSource } from '../../../src/sources/manifests/source.js';
import { silentLogger } from '../../../src/util/log.js';

export class Folder {
  readonly dir = mkdtempSync(join(tmpdir(), 'kproxy-manifests-'));
  write(file: string, text: string): void {
    const p = join(this.dir, file);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  remove(file: string): void {
    unlinkSync(join(this.dir, file));
  }
  path(file: string): string {
    return join(this.dir, file);
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Running {
  tracker: ChangeTracker;
  source: ManifestsSource;
  changes: number;
  state(): ProxyState;
  stop(): Promise<void>;
}

export async function startSource(dir: string, over: Partial<Config> = {}, opts: Parameters<typeof manifestsSource>[1] = {}): Promise<Running> {
  const config: Config = { ...defaultConfig(), mode: 'userspace', manifests: dir, hostnameOverride: 'node-a', ...over };
  const tracker = new ChangeTracker({ nodeName: config.hostnameOverride, machineAddresses: ['192.0.2.1'] });
  const r = { tracker, changes: 0 } as Running;
  r.source = manifestsSource({ config, sink: tracker, changed: () => r.changes++, log: silentLogger() }, opts);
  await r.source.start();
  r.state = () => tracker.snapshot();
  r.stop = () => r.source.stop();
  return r;
}

export function port(state: ProxyState, svc: string): ServicePortState | undefined {
  return [...state.servicePorts.values()].find((p) => `${p.namespace}/${p.name}` === svc);
}

export function endpoints(state: ProxyState, svc: string): string[] {
  return (port(state, svc)?.clusterEndpoints ?? []).map((e) => e.endpoint).sort();
}

export async function poll<T>(read: () => T, ok: (v: T) => boolean, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  for (;;) {
    const value = read();
    if (ok(value)) return { value, ms: performance.now() - t0 };
    if (performance.now() - t0 > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const service = (name: string, app: string, extra = '') => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: demo}
spec:
  selector: {app: ${app}}
  ports: [{name: http, port: 80, targetPort: http}]
${extra}`;

export const pod = (name: string, app: string, ip: string, port: number, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: demo, labels: {app: ${app}}}
spec:
  nodeName: node-a
  containers: [{name: c, ports: [{name: http, containerPort: ${port}}]}]
${extra}status: {podIP: ${ip}}
`;
