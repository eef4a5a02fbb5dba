// `npm run build` bundles the parts of @kubernetes/client-node the kube source uses
// (scripts/bundle.js); the source must load that bundle, and the bundle must still do what
// it is there for: load a kubeconfig and put its credentials on a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { clientNodeOrigin, KubeConfig, ListWatch, Watch } from '../../../src/sources/kube/client-node.js';

test('the kube source loads the client-node bundle, which reads a kubeconfig and authenticates requests', async () => {
  assert.equal(clientNodeOrigin, 'bundle', 'dist/vendor/client-node.js is missing: run `npm run build`');
  assert.equal(typeof Watch, 'function');
  assert.equal(typeof ListWatch, 'function');
  const kc = new KubeConfig();
  kc.loadFromString(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
  assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer secret-token');
  assert.equal(opts.rejectUnauthorized, false);
});
