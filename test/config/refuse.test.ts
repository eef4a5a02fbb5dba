// Settings and objects that would hurt the node are refused, naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { refuseNodeConflicts } from '../../src/config/refuse.js';
import { validateService } from '../../src/api/validate.js';
import { validatePod } from '../../src/sources/pods/pod.js';
import { ConfigError } from '../../src/util/errors.js';
import { kproxy } from '../cli/run-kproxy.js';

const refused = (flags: Record<string, string>, field: string, reason: RegExp) =>
  assert.throws(
    () => loadConfig({ flags }),
    (e: unknown) => e instanceof ConfigError && e.field === field && reason.test(e.reason),
    JSON.stringify(flags),
  );

test('service ranges the API server would refuse, or that cover the node, its gateway or the pods, are refused', () => {
  refused({ serviceClusterIpRange: '0.0.0.0/0' }, '--service-cluster-ip-range', /too large.*\/12/);
  refused({ serviceClusterIpRange: '10.0.0.0/11' }, '--service-cluster-ip-range', /too large/);
  refused({ serviceClusterIpRange: '10.96.0.0/16,fd00::/64' }, '--service-cluster-ip-range', /too large.*\/108/);
  refused({ serviceClusterIpRange: '10.96.0.0/12', clusterCidr: '10.100.0.0/16' }, '--service-cluster-ip-range', /overlaps the cluster CIDR 10\.100\.0\.0\/16/);
  assert.deepEqual(loadConfig({ flags: { serviceClusterIpRange: '10.96.0.0/12,fd00:96::/108' } }).serviceClusterIPRange, ['10.96.0.0/12', 'fd00:96::/108']);
  const cfg = loadConfig({ flags: { serviceClusterIpRange: '192.168.0.0/16' } });
  const host = { addresses: ['127.0.0.1', '192.168.7.3'], gateways: ['10.0.0.1'] };
  assert.throws(() => refuseNodeConflicts(cfg, host), /contains 192\.168\.7\.3, an address of this node/);
  assert.throws(() => refuseNodeConflicts(loadConfig({ flags: { serviceClusterIpRange: '10.0.0.0/16' } }), host), /contains 10\.0\.0\.1, this node's default gateway/);
  refuseNodeConflicts(loadConfig({ flags: { serviceClusterIpRange: '172.30.0.0/16' } }), host);
});

test('durations Node cannot time, a zero UDP idle timeout, an over-long domain label and a non-address upstream are refused', () => {
  refused({ syncPeriod: '1000000h' }, 'syncPeriod', /longer than the longest timer/);
  refused({ udpIdleTimeout: '0s' }, '--udp-idle-timeout', /greater than 0/);
  refused({ clusterDomain: `${'a'.repeat(300)}.local` }, '--cluster-domain', /300 characters; a DNS label has at most 63/);
  refused({ dnsUpstream: '0.0.0.0:0' }, '--dns-upstream', /unspecified address/);
  refused({ dnsUpstream: '10.0.0.10:0' }, '--dns-upstream', /port 0/);
  refused({ dnsUpstream: '[::]:53' }, '--dns-upstream', /unspecified/);
});

test('an address flag that does not parse is named with an example for that flag, and with what the user wrote', () => {
  const message = (flags: Record<string, string>) => {
    try {
      loadConfig({ flags });
    } catch (e) {
      if (e instanceof ConfigError) return `${e.field}: ${e.reason}`;
      throw e;
    }
    return 'accepted';
  };
  assert.equal(message({ dnsBindAddress: 'foo' }), '--dns-bind-address: expected IP:PORT (e.g. 127.0.0.1:10053, [::1]:10053), got "foo"');
  assert.equal(message({ healthzBindAddress: '1.2.3.4:99999' }), '--healthz-bind-address: expected IP:PORT (e.g. 127.0.0.1:10256, [::1]:10256), got "1.2.3.4:99999"');
  assert.equal(message({ metricsBindAddress: 'foo' }), '--metrics-bind-address: expected IP:PORT (e.g. 127.0.0.1:10249, [::1]:10249), got "foo"');
  // Not "foo:53": the port is kproxy's default, not something the user typed.
  assert.equal(message({ dnsUpstream: '10.0.0.10,foo' }), '--dns-upstream: expected IP or IP:PORT (e.g. 10.0.0.10, 10.0.0.10:53, [fd00::a]:53), got "foo"');
  assert.deepEqual(loadConfig({ flags: { dnsUpstream: '10.0.0.10,fd00::a,10.0.0.11:5353' } }).dnsUpstream, ['10.0.0.10:53', '[fd00::a]:53', '10.0.0.11:5353']);
});

test('--userspace-workers names both of its forms when it gets neither', () => {
  refused({ userspaceWorkers: 'x' }, '--userspace-workers', /^expected auto or a whole number from 0 to 64, got "x"$/);
  refused({ userspaceWorkers: '2.5' }, '--userspace-workers', /^expected auto or a whole number from 0 to 64, got "2\.5"$/);
  refused({ userspaceWorkers: '65' }, '--userspace-workers', /^expected auto or a whole number from 0 to 64, got "65"$/);
  assert.equal(loadConfig({ flags: { userspaceWorkers: 'auto' } }).userspaceWorkers, 'auto');
  assert.equal(loadConfig({ flags: { userspaceWorkers: '3' } }).userspaceWorkers, 3);
});

test('the CLI says which field, without a stack trace', async () => {
  const r = await kproxy(['run', '--proxy-mode', 'userspace', '--service-cluster-ip-range', '0.0.0.0/0', '--manifests', '/nonexistent']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--service-cluster-ip-range: 0\.0\.0\.0\/0 is too large/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const d = await kproxy(['services', '--cluster-domain', `${'b'.repeat(300)}`, '--manifests', '/nonexistent']);
  assert.notEqual(d.code, 0);
  assert.match(d.stderr, /--cluster-domain: /);
  assert.doesNotMatch(d.stderr, /\n\s+at /);
});

test('Services with unspecified addresses or names the API server refuses are refused by field', () => {
  const svc = (name: string, namespace: string, spec: Record<string, unknown>) =>
    validateService({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80 }], ...spec } });
  const field = (v: ReturnType<typeof validateService>) => (v.ok ? 'ok' : `${v.error.field}: ${v.error.reason}`);
  assert.match(field(svc('a', 'demo', { clusterIP: '0.0.0.0' })), /^spec\.clusterIP: .*unspecified/);
  assert.match(field(svc('a', 'demo', { clusterIP: '10.96.0.1', externalIPs: ['0.0.0.0'] })), /^spec\.externalIPs\[0\]: .*unspecified/);
  assert.match(field(svc('a', 'demo', { clusterIP: '10.96.0.1', externalIPs: ['192.0.2.9', '::'] })), /^spec\.externalIPs\[1\]/);
  assert.match(field(svc('Bad_Name!', 'demo', {})), /^metadata\.name: .*DNS-1035/);
  assert.match(field(svc('a.b', 'demo', {})), /^metadata\.name: .*DNS-1035/);
  assert.match(field(svc('1abc', 'demo', {})), /^metadata\.name: .*DNS-1035/);
  assert.match(field(svc('a', '../../etc', {})), /^metadata\.namespace: .*DNS-1123 label/);
  assert.equal(field(svc('web-1', 'demo', { clusterIP: '10.96.0.1' })), 'ok');
});

test('Pod durations longer than a Node timer are refused by field instead of firing after 1 ms', () => {
  const pod = (probe: Record<string, unknown>, grace?: number) =>
    validatePod({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'demo' },
      spec: { terminationGracePeriodSeconds: grace, containers: [{ name: 'c', readinessProbe: { tcpSocket: { port: 80 }, ...probe } }] },
      status: { podIP: '10.0.0.1' },
    });
  for (const f of ['periodSeconds', 'initialDelaySeconds', 'timeoutSeconds']) {
    const v = pod({ [f]: 3_000_000 });
    assert.equal(v.ok, false, f);
    if (!v.ok) assert.match(`${v.error.field}: ${v.error.reason}`, new RegExp(`${f}: 3000000 is out of range: at most 2147483 seconds`));
  }
  const g = pod({}, 3_000_000);
  assert.equal(g.ok, false);
  if (!g.ok) assert.equal(g.error.field, 'spec.terminationGracePeriodSeconds');
  assert.equal(pod({ periodSeconds: 2_147_483 }).ok, true);
});
