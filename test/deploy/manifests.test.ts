// deploy/ holds valid Kubernetes objects that fit together: every document parses, has the
// kind/apiVersion/fields the API server requires, references resolve (ServiceAccount, role,
// ConfigMap, volumes), the role grants what the kube source watches and what
// system:node-proxier grants, the embedded KubeProxyConfiguration loads with the real config
// loader, and the container's command line parses with kproxy's own flags.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { addConfigOptions, configFrom } from '../../src/cli/options.js';
import { applyConfigFile, defaultConfig, finishConfig } from '../../src/config/load.js';
import { kubeConfigFor } from '../../src/sources/kube/kubeconfig.js';
import { resources } from '../../src/sources/kube/selectors.js';

const DEPLOY = join(process.cwd(), 'deploy');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const API_VERSIONS: Record<string, { apiVersion: string; namespaced: boolean }> = {
  ServiceAccount: { apiVersion: 'v1', namespaced: true },
  ConfigMap: { apiVersion: 'v1', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  DaemonSet: { apiVersion: 'apps/v1', namespaced: true },
};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// What the built-in system:node-proxier ClusterRole grants (kube-proxy's rights).
const NODE_PROXIER: { groups: string[]; resources: string[]; verbs: string[] }[] = [
  { groups: [''], resources: ['endpoints', 'services'], verbs: ['list', 'watch'] },
  { groups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  { groups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { groups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
];

function loadAll(): Obj[] {
  const out: Obj[] = [];
  for (const f of readdirSync(DEPLOY)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DEPLOY, f), 'utf8'))) {
      assert.equal(doc.errors.length, 0, `${f}: ${doc.errors[0]?.message}`);
      const o = doc.toJS() as Obj | null;
      if (o !== null) out.push(Object.assign(o, { __file: f }));
    }
  }
  return out;
}

/**
 * Checks a value against the API's own schema as @kubernetes/client-node's generated models
 * describe it: every field name known, every value of the right type. A misspelt field
 * (hostNetwrok) would otherwise be dropped silently by the API server.
 */
function schemaErrors(value: unknown, type: string, path: string): string[] {
  const errs: string[] = [];
  const arr = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    value.forEach((v, i) => errs.push(...schemaErrors(v, arr[1], `${path}[${i}]`)));
  } else if (map) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a mapping`];
    for (const [k, v] of Object.entries(value)) errs.push(...schemaErrors(v, map[1], `${path}.${k}`));
  } else if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') errs.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
  } else if (type === 'number') {
    if (typeof value !== 'number') errs.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') errs.push(`${path}: expected true or false, got ${JSON.stringify(value)}`);
  } else if (type === 'IntOrString') {
    if (typeof value !== 'string' && typeof value !== 'number') errs.push(`${path}: expected a number or a string`);
  } else if (type === 'any' || type === 'object') {
    // free-form
  } else {
    const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] }>)[type];
    if (!model?.getAttributeTypeMap) return [`${path}: no model ${type} in @kubernetes/client-node`];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a ${type} mapping`];
    const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
    for (const [k, v] of Object.entries(value)) {
      const t = fields.get(k);
      if (t === undefined) errs.push(`${path}.${k}: unknown field of ${type}`);
      else errs.push(...schemaErrors(v, t, `${path}.${k}`));
    }
  }
  return errs;
}

function one(objs: Obj[], kind: string): Obj {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0];
}

function grants(role: Obj, group: string, resource: string, verb: string): boolean {
  return (role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).some(
    (r) => r.apiGroups.includes(group) && (r.resources.includes(resource) || r.resources.includes('*')) && (r.verbs.includes(verb) || r.verbs.includes('*')),
  );
}

describe('deploy manifests', () => {
  const objs = loadAll();

  it('are Kubernetes objects of known kinds with the required fields', () => {
    assert.deepEqual(new Set(objs.map((o) => o.kind)), new Set(Object.keys(API_VERSIONS)));
    for (const o of objs) {
      const where = `${o.__file}: ${o.kind}/${o.metadata?.name}`;
      const want = API_VERSIONS[o.kind];
      assert.equal(o.apiVersion, want.apiVersion, `${where}: apiVersion`);
      assert.match(o.metadata.name, DNS1123_SUBDOMAIN, `${where}: metadata.name`);
      if (want.namespaced) assert.equal(o.metadata.namespace, 'kube-system', `${where}: metadata.namespace`);
      else assert.equal(o.metadata.namespace, undefined, `${where}: cluster-scoped objects have no namespace`);
      const { __file, ...object } = o;
      assert.deepEqual(schemaErrors(object, `V1${o.kind}`, where), []);
    }
  });

  it('grant what system:node-proxier grants, and everything the kube source lists and watches', () => {
    const role = one(objs, 'ClusterRole');
    for (const rule of role.rules) {
      for (const f of ['apiGroups', 'resources', 'verbs']) assert.ok(Array.isArray(rule[f]) && rule[f].length > 0, `rules[].${f}`);
    }
    for (const r of NODE_PROXIER) for (const g of r.groups) for (const res of r.resources) for (const v of r.verbs) assert.ok(grants(role, g, res, v), `${v} ${g || 'core'}/${res}`);
    const cfg = defaultConfig();
    for (const spec of resources(cfg, 'n')) {
      const m = /^\/apis?\/(?:([^/]+)\/)?v1\/([a-z]+)$/.exec(spec.path)!;
      const group = spec.path.startsWith('/api/') ? '' : m[1];
      for (const v of ['list', 'watch']) assert.ok(grants(role, group, m[2], v), `${v} ${spec.path}`);
    }
    // No more than that: a proxy never writes Services or reads Secrets.
    assert.ok(!grants(role, '', 'secrets', 'get') && !grants(role, '', 'services', 'update'));

    const binding = one(objs, 'ClusterRoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    const sa = one(objs, 'ServiceAccount');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  });

  it('are checked against the API schema (a misspelt field is caught)', () => {
    const ds = structuredClone(one(objs, 'DaemonSet'));
    delete ds.__file;
    ds.spec.template.spec.hostNetwrok = true;
    ds.spec.template.spec.containers[0].securityContext.privileged = 'yes';
    assert.deepEqual(schemaErrors(ds, 'V1DaemonSet', 'ds').sort(), [
      'ds.spec.template.spec.containers[0].securityContext.privileged: expected true or false, got "yes"',
      'ds.spec.template.spec.hostNetwrok: unknown field of V1PodSpec',
    ]);
  });

  it('run a DaemonSet as kube-proxy runs: host network, every taint tolerated, xtables lock, node-critical', () => {
    const ds = one(objs, 'DaemonSet');
    const pod = ds.spec.template.spec;
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels as Record<string, string>)) assert.equal(ds.spec.template.metadata.labels[k], v, 'selector matches the template');
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.priorityClassName, 'system-node-critical');
    assert.ok(
      pod.tolerations.some((t: { operator?: string; key?: string }) => t.operator === 'Exists' && !t.key),
      'tolerates every taint',
    );
    assert.equal(pod.serviceAccountName, one(objs, 'ServiceAccount').metadata.name);
    assert.equal(pod.containers.length, 1);
    const c = pod.containers[0];
    assert.match(c.name, DNS1123_LABEL);
    assert.ok(typeof c.image === 'string' && c.image.length > 0);
    assert.equal(c.securityContext.privileged, true);
    const volumes = new Map<string, Record<string, any>>(pod.volumes.map((v: { name: string }) => [v.name, v]));
    for (const m of c.volumeMounts) assert.ok(volumes.has(m.name), `volumeMount ${m.name} has a volume`);
    const lock = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/run/xtables.lock');
    assert.ok(lock, 'the xtables lock is shared with the host');
    assert.deepEqual(volumes.get(lock.name)!.hostPath, { path: '/run/xtables.lock', type: 'FileOrCreate' });
    assert.equal(c.livenessProbe.httpGet.path, '/livez');
    assert.equal(c.livenessProbe.httpGet.port, 10256);
    for (const e of c.env) assert.ok(e.value !== undefined || e.valueFrom?.fieldRef?.fieldPath, `env ${e.name} has a value`);
  });

  it('embed a KubeProxyConfiguration that the config loader accepts, and a command line kproxy parses', () => {
    const cm = one(objs, 'ConfigMap');
    const ds = one(objs, 'DaemonSet');
    const c = ds.spec.template.spec.containers[0];
    assert.equal(c.command[0], 'kproxy');
    assert.equal(c.command[1], 'run');
    const configArg = (c.command as string[]).find((a) => a.startsWith('--config='))!;
    const configPath = configArg.slice('--config='.length);
    const mount = c.volumeMounts.find((m: { mountPath: string }) => configPath.startsWith(m.mountPath + '/'));
    assert.ok(mount, '--config points into a mounted volume');
    const vol = ds.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
    assert.equal(vol.configMap.name, cm.metadata.name);
    const key = configPath.slice(mount.mountPath.length + 1);
    assert.ok(typeof cm.data[key] === 'string', `the ConfigMap has ${key}`);

    const dir = mkdtempSync(join(tmpdir(), 'kproxy-deploy-'));
    const file = join(dir, key);
    writeFileSync(file, cm.data[key]);
    const cfg = defaultConfig();
    applyConfigFile(cfg, file);
    finishConfig(cfg);
    assert.equal(cfg.mode, 'nftables');
    // The kubeconfig it names is in the same volume, uses the service account, and does not
    // point at a ClusterIP (which needs a running proxy to be reachable).
    assert.ok(cfg.clientConnection.kubeconfig.startsWith(mount.mountPath + '/'));
    const kcKey = cfg.clientConnection.kubeconfig.slice(mount.mountPath.length + 1);
    const kcFile = join(dir, kcKey);
    writeFileSync(kcFile, cm.data[kcKey]);
    const kc = kubeConfigFor({ ...cfg, clientConnection: { ...cfg.clientConnection, kubeconfig: kcFile } }, {});
    assert.match(kc.getCurrentCluster()!.server, /^https:\/\/[^/]+:\d+$/);
    assert.equal(kc.getCurrentCluster()!.caFile, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    assert.deepEqual(kc.getCurrentUser()!.authProvider, { name: 'tokenFile', config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
    assert.deepEqual(cfg.clusterCIDRs, ['10.244.0.0/16']);
    assert.equal(cfg.healthzBindAddress, '0.0.0.0:10256');

    // The container's arguments, with the downward-API variable expanded as the kubelet does.
    const env = Object.fromEntries((c.env as { name: string }[]).map((e) => [e.name, 'node-1']));
    const args = (c.command as string[])
      .slice(2)
      .map((a) => a.replace(/\$\((\w+)\)/g, (_, n: string) => env[n] ?? `$(${n})`))
      .map((a) => (a.startsWith('--config=') ? `--config=${file}` : a));
    let parsed: ReturnType<typeof configFrom> | null = null;
    const cmd = addConfigOptions(new Command('run').exitOverride()).action((opts) => {
      parsed = configFrom(opts);
    });
    cmd.parse(args, { from: 'user' });
    assert.ok(parsed);
    const p = parsed as ReturnType<typeof configFrom>;
    assert.equal(p.hostnameOverride, 'node-1');
    assert.equal(p.mode, 'nftables');
    assert.equal(p.manifests, '', 'the API source, not standalone');
    assert.ok(p.serviceClusterIPRange.length > 0);
  });

  it('build the image on Debian with nftables, iptables and conntrack', () => {
    const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length > 0 && froms.every((f) => /bookworm|bullseye|trixie|debian/.test(f)), `Debian-based: ${froms.join(', ')}`);
    const install = /apt-get install[^\n]*(?:\\\n[^\n]*)*/.exec(text)?.[0] ?? '';
    for (const pkg of ['nftables', 'iptables', 'conntrack']) assert.match(install, new RegExp(`\\b${pkg}\\b`), `installs ${pkg}`);
    assert.match(text, /ENTRYPOINT \["kproxy"\]/);
  });
});
