import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compile } from '../../../src/dataplanes/ipvs/compile.js';
import { renderSave } from '../../../src/dataplanes/ipvs/ipvsadm.js';
import { missingJumps, withJumps, renderIptables, jumps } from '../../../src/dataplanes/ipvs/iptables.js';
import { config, ep, node, service, slice, stateOf } from './helpers.js';

const http = (nodePort?: number) => [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }];
const p8080 = [{ name: 'http', port: 8080, protocol: 'TCP' }];

function v4(objects: Record<string, unknown>[], over = {}) {
  const r = compile(stateOf(objects), config(over));
  return { ...r.families.find((f) => f.family === 'IPv4')!, warnings: r.warnings };
}

test('ClusterIP, NodePort, externalIP and LoadBalancer IP each get a virtual service with the endpoints', () => {
  const f = v4([
    node('node1', '192.168.0.2'),
    service('ns', 'web', { type: 'LoadBalancer', clusterIP: '172.30.0.10', externalIPs: ['192.168.99.1'], ports: http(30080) }, { loadBalancer: { ingress: [{ ip: '192.168.100.1' }] } }),
    slice('ns', 'web', [ep('10.0.1.1', 'node1'), ep('10.0.2.1', 'node2')], p8080),
  ]);
  const rs = ['-m -w 1'].flatMap(() => ['-r 10.0.1.1:8080 -m -w 1', '-r 10.0.2.1:8080 -m -w 1']);
  const save = renderSave(f.services);
  for (const vs of ['172.30.0.10:80', '192.168.99.1:80', '192.168.100.1:80', '192.168.0.2:30080']) {
    assert.match(save, new RegExp(`^-A -t ${vs} -s rr$`, 'm'));
    for (const r of rs) assert.match(save, new RegExp(`^-a -t ${vs} ${r}$`, 'm'));
  }
  assert.deepEqual(f.addresses, ['172.30.0.10', '192.168.100.1', '192.168.99.1']); // node port addresses are the node's own
  assert.deepEqual([...f.sets.get('nodePortTCP')!], ['30080']);
  assert.deepEqual([...f.sets.get('loopBack')!], ['10.0.1.1,tcp:8080,10.0.1.1']); // only the local endpoint hairpins
  assert.deepEqual([...f.sets.get('externalIP')!], ['192.168.99.1,tcp:80']);
  assert.deepEqual([...f.sets.get('loadBalancer')!], ['192.168.100.1,tcp:80']);
});

test('eTP Local: external entry points get only local endpoints and the *-LOCAL sets', () => {
  const f = v4([
    node('node1', '192.168.0.2'),
    service('ns', 'loc', { type: 'LoadBalancer', clusterIP: '172.30.0.11', externalTrafficPolicy: 'Local', ports: http(30081) }, { loadBalancer: { ingress: [{ ip: '192.168.100.2' }] } }),
    slice('ns', 'loc', [ep('10.0.1.1', 'node1'), ep('10.0.2.1', 'node2')], p8080),
  ]);
  const lb = f.services.find((s) => s.address === '192.168.100.2')!;
  assert.deepEqual(
    lb.realServers.map((r) => r.address),
    ['10.0.1.1'],
  );
  const cip = f.services.find((s) => s.address === '172.30.0.11')!;
  assert.deepEqual(cip.realServers.map((r) => r.address).sort(), ['10.0.1.1', '10.0.2.1']);
  assert.deepEqual([...f.sets.get('loadBalancerLocal')!], ['192.168.100.2,tcp:80']);
  assert.deepEqual([...f.sets.get('nodePortLocalTCP')!], ['30081']);
  assert.equal(f.sets.get('nodePortTCP')!.size, 0);
});

test('no endpoints: virtual service without real servers, and the address:port in the REJECT set', () => {
  const f = v4([service('ns', 'empty', { clusterIP: '172.30.0.12', ports: http() })]);
  assert.equal(renderSave(f.services), '-A -t 172.30.0.12:80 -s rr\n');
  assert.deepEqual([...f.sets.get('noEndpointsReject')!], ['172.30.0.12,tcp:80']);
});

test('ClientIP affinity is persistence with the Service timeout; the annotation picks the scheduler', () => {
  const f = v4(
    [
      service('ns', 'a', { clusterIP: '172.30.0.13', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: http() }, undefined, {
        'kproxy.io/scheduler': 'sh',
      }),
      service('ns', 'b', { clusterIP: '172.30.0.14', ports: http() }, undefined, { 'kproxy.io/scheduler': 'random' }),
    ],
    { ipvs: { ...config().ipvs, scheduler: 'lc' } },
  );
  assert.match(renderSave(f.services), /^-A -t 172\.30\.0\.13:80 -s sh -p 600$/m);
  assert.match(renderSave(f.services), /^-A -t 172\.30\.0\.14:80 -s lc$/m);
  assert.equal(f.warnings.length, 1);
  assert.match(f.warnings[0], /^Service ns\/b: metadata\.annotations\[kproxy\.io\/scheduler\]: unknown IPVS scheduler "random"/);
});

test('loadBalancerSourceRanges fill the firewall sets', () => {
  const f = v4([
    service('ns', 'fw', { type: 'LoadBalancer', clusterIP: '172.30.0.15', loadBalancerSourceRanges: ['203.0.113.0/24'], ports: http(30082) }, { loadBalancer: { ingress: [{ ip: '192.168.100.3' }] } }),
    slice('ns', 'fw', [ep('10.0.1.1', 'node1')], p8080),
  ]);
  assert.deepEqual([...f.sets.get('loadBalancerFW')!], ['192.168.100.3,tcp:80']);
  assert.deepEqual([...f.sets.get('loadBalancerSourceCIDR')!], ['192.168.100.3,tcp:80,203.0.113.0/24']);
});

test('jumps: missing ones are inserted in the restore input, present ones are recognised in iptables-save output', () => {
  const text = renderIptables(config(), { podCIDRs: [] }, 'IPv4');
  const all = withJumps(text, jumps());
  assert.match(all, /-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT/);
  // what iptables-save prints after that restore
  const saved = [
    '*nat',
    ...all
      .split('\n')
      .filter((l) => l.startsWith('-I ') && /PREROUTING|OUTPUT|POSTROUTING/.test(l))
      .map((l) => l.replace(/^-I (\S+) 1 /, '-A $1 ')),
  ].join('\n');
  const missing = missingJumps(saved).map((j) => `${j.table} ${j.chain}`);
  assert.ok(!missing.includes('nat PREROUTING') && !missing.includes('nat POSTROUTING'), missing.join(', '));
  assert.ok(missing.includes('filter INPUT'));
});

test('the health check node port is opened before the LoadBalancer has an IP or node ports', () => {
  // No ingress yet, allocateLoadBalancerNodePorts false: nothing external to program, but the
  // health check server answers on the port, and the filter table must let it through.
  const f = v4([
    node('node1', '192.168.0.2'),
    service('ns', 'lb', { type: 'LoadBalancer', clusterIP: '172.30.0.10', allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: http() }),
  ]);
  assert.deepEqual([...f.sets.get('healthCheckNodePort')!], ['32000']);
});
