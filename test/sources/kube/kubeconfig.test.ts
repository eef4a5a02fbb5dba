// Where the source finds its API server: --kubeconfig, clientConnection.kubeconfig,
// the Pod's service account, --master.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../../src/config/load.js';
import { kubeConfigFor } from '../../../src/sources/kube/kubeconfig.js';
import { ConfigError } from '../../../src/util/errors.js';
import { getJSON } from '../../../src/sources/kube/request.js';
import { TestAPIServer, writeKubeconfig } from './apiserver.js';

describe('kube source: kubeconfig', () => {
  it('reads --kubeconfig, else clientConnection.kubeconfig; --master replaces the server', () => {
    const file = writeKubeconfig('https://10.0.0.1:6443');
    const cfg = defaultConfig();
    cfg.clientConnection.kubeconfig = file;
    assert.equal(kubeConfigFor(cfg, {}).getCurrentCluster()?.server, 'https://10.0.0.1:6443');
    cfg.master = 'https://lb.example:443/';
    const kc = kubeConfigFor(cfg, {});
    assert.equal(kc.getCurrentCluster()?.server, 'https://lb.example:443');
    assert.equal(kc.getCurrentUser()?.token, 'test-token', 'credentials stay those of the kubeconfig');
  });

  it("reads kubectl's user.tokenFile (kube-proxy's kubeconfig as kubeadm writes it)", async () => {
    const api = new TestAPIServer();
    await api.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'kproxy-kc-'));
      writeFileSync(join(dir, 'token'), 'projected-sa-token');
      writeFileSync(
        join(dir, 'kubeconfig.conf'),
        `apiVersion: v1
kind: Config
clusters:
- cluster: {server: ${api.url}, insecure-skip-tls-verify: true}
  name: default
contexts:
- context: {cluster: default, namespace: default, user: default}
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: ${join(dir, 'token')}
`,
      );
      const cfg = defaultConfig();
      cfg.clientConnection.kubeconfig = join(dir, 'kubeconfig.conf');
      const list = (await getJSON(kubeConfigFor(cfg, {}), '/api/v1/services')) as { kind: string };
      assert.equal(list.kind, 'ServiceList');
      assert.equal(api.requests[0].authorization, 'Bearer projected-sa-token');
    } finally {
      await api.stop();
    }
  });

  it('uses the service account in a Pod (KUBERNETES_SERVICE_HOST/PORT)', () => {
    const kc = kubeConfigFor(defaultConfig(), { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' });
    assert.equal(kc.getCurrentCluster()?.server, 'https://[fd00::1]:443');
    assert.equal(kc.getCurrentCluster()?.caFile, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
  });

  it('takes --master alone (an unauthenticated endpoint such as kubectl proxy)', () => {
    const cfg = defaultConfig();
    cfg.master = 'http://127.0.0.1:8001';
    assert.equal(kubeConfigFor(cfg, {}).getCurrentCluster()?.server, 'http://127.0.0.1:8001');
  });

  it('says what to give when there is no API server, and names a broken kubeconfig', () => {
    assert.throws(
      () => kubeConfigFor(defaultConfig(), {}),
      (e: unknown) => e instanceof ConfigError && /--kubeconfig FILE/.test(e.message),
    );
    const cfg = defaultConfig();
    cfg.kubeconfig = '/nonexistent/kubeconfig';
    assert.throws(() => kubeConfigFor(cfg, {}), /\/nonexistent\/kubeconfig: no such file/);
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-kc-'));
    writeFileSync(join(dir, 'bad'), 'clusters: [ {');
    cfg.kubeconfig = join(dir, 'bad');
    assert.throws(
      () => kubeConfigFor(cfg, {}),
      (e: unknown) => e instanceof ConfigError && e.message.includes(join(dir, 'bad')),
    );
  });
});
