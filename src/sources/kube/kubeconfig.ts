// Where the API server is and who we are: --kubeconfig (or clientConnection.kubeconfig),
// else the Pod's service account (KUBERNETES_SERVICE_HOST/PORT, token and CA under
// /var/run/secrets/kubernetes.io/serviceaccount); --master replaces the server address.
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { KubeConfig } from './client-node.js';
import { parse as parseYAML } from 'yaml';
import type { Config } from '../../config/types.js';
import { ConfigError } from '../../util/errors.js';

export function kubeConfigFor(cfg: Config, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const file = cfg.kubeconfig || cfg.clientConnection.kubeconfig;
  if (file) {
    if (!existsSync(file)) throw new ConfigError('--kubeconfig', `${file}: no such file`);
    try {
      kc.loadFromFile(file);
      tokenFilesFrom(kc, file);
    } catch (e) {
      throw new ConfigError('--kubeconfig', `${file}: ${(e as Error).message}`);
    }
  } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    inCluster(kc, env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT);
  } else if (!cfg.master) {
    throw new ConfigError('--kubeconfig', 'no API server to watch: give --kubeconfig FILE, --master URL, or run in a Pod (KUBERNETES_SERVICE_HOST is not set); or --manifests DIR for standalone use');
  }
  if (cfg.master) {
    const cluster = kc.getCurrentCluster();
    const master = cfg.master.replace(/\/$/, '');
    if (cluster) {
      kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: master } : c));
    } else {
      // --master alone: an unauthenticated server (kubectl proxy, a test server).
      kc.loadFromOptions({
        clusters: [{ name: 'master', server: master, skipTLSVerify: master.startsWith('http:') }],
        users: [{ name: 'anonymous' }],
        contexts: [{ name: 'master', cluster: 'master', user: 'anonymous' }],
        currentContext: 'master',
      });
    }
  }
  if (!kc.getCurrentCluster()) throw new ConfigError('--kubeconfig', `${file}: no current context with a cluster`);
  return kc;
}

/**
 * kubectl's `user.tokenFile` (kubeadm writes kube-proxy's kubeconfig with it, pointing at the
 * service account token) is not read by client-node, which knows only a `token-file` read
 * once. Map it to client-node's tokenFile provider, which re-reads the file as the kubelet
 * rotates the projected token.
 */
function tokenFilesFrom(kc: KubeConfig, file: string): void {
  const raw = parseYAML(readFileSync(file, 'utf8')) as { users?: { name?: string; user?: { tokenFile?: string; token?: string } }[] } | null;
  for (const u of raw?.users ?? []) {
    const tokenFile = u.user?.tokenFile;
    if (!tokenFile || u.user?.token) continue;
    kc.users = kc.users.map((x) => (x.name === u.name ? { ...x, authProvider: { name: 'tokenFile', config: { tokenFile } } } : x));
  }
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** As client-node's loadFromCluster, from the given environment; the token file is re-read per request (rotation). */
function inCluster(kc: KubeConfig, host: string, port: string): void {
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  kc.loadFromClusterAndUser(
    { name: 'inCluster', server, caFile: `${SERVICE_ACCOUNT}/ca.crt`, skipTLSVerify: false },
    { name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: `${SERVICE_ACCOUNT}/token` } } },
  );
}
