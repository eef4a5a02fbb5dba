// The userspace compiler: ProxyState → listeners, as a pure function.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../../src/dataplanes/userspace/compile.js';
import { allowedSource, parseRanges } from '../../../src/dataplanes/userspace/route.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import { defaultConfig } from '../../../src/config/load.js';
import { Harness, NODE, service, slice } from './helpers.js';

function stateOf(...objects: object[]) {
  const t = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.0.2'] });
  for (const o of objects) {
    const e = t.upsert(o as never);
    if (e) throw new Error(`${e.field}: ${e.reason}`);
  }
  return t.snapshot();
}

const opts = { scheduler: '', nodePortAddresses: [] as string[], localAddresses: ['127.0.0.1', '192.168.0.2', '10.0.0.5', '::1'] };

describe('userspace compile', () => {
  it('listens on the ClusterIP, external IPs, LoadBalancer VIPs (with source ranges) and the NodePort', () => {
    const lb = {
      ...(service({ name: 'lb', clusterIP: '10.96.0.1', port: 80, externalIPs: ['203.0.113.7'] }) as { spec: object }),
    } as { spec: Record<string, unknown>; status?: object };
    lb.spec = { ...lb.spec, type: 'LoadBalancer', loadBalancerSourceRanges: ['198.51.100.0/24'], ports: [{ port: 80, targetPort: 9999, nodePort: 30001 }] };
    lb.status = { loadBalancer: { ingress: [{ ip: '198.18.0.1' }, { ip: '198.18.0.2', ipMode: 'Proxy' }] } };
    const plan = compile(stateOf(lb, slice('lb', [{ ip: '10.0.1.1', port: 9999 }])), opts);
    const l = [...plan.listeners.values()].map((x) => `${x.key} ${x.kind} ${x.sourceRanges.join(',')}`).sort();
    assert.deepEqual(l, ['TCP/0.0.0.0/30001 external ', 'TCP/10.96.0.1/80 internal ', 'TCP/198.18.0.1/80 external 198.51.100.0/24', 'TCP/203.0.113.7/80 external ']);
    assert.deepEqual(plan.warnings, []);
  });

  it('nodePortAddresses: "primary" is the node IP; CIDRs select local addresses', () => {
    const st = stateOf(service({ name: 'np', clusterIP: '10.96.0.2', port: 80, type: 'NodePort', nodePort: 30002 }));
    const np = (nodePortAddresses: string[]) => [...compile(st, { ...opts, nodePortAddresses }).listeners.values()].filter((x) => x.port === 30002).map((x) => x.ip);
    assert.deepEqual(np([]), ['0.0.0.0']);
    assert.deepEqual(np(['primary']), ['192.168.0.2']);
    assert.deepEqual(np(['127.0.0.0/8', '10.0.0.0/8']), ['10.0.0.5', '127.0.0.1']);
    assert.deepEqual(np(['172.16.0.0/12']), []);
  });

  it('reports SCTP, unknown scheduler annotations and address conflicts, and goes on', () => {
    const plan = compile(
      stateOf(
        service({ name: 'sctp', clusterIP: '10.96.0.3', port: 80, protocol: 'SCTP' }),
        service({ name: 'odd', clusterIP: '10.96.0.4', port: 80, annotations: { 'kproxy.io/scheduler': 'wlc' } }),
        service({ name: 'x1', clusterIP: '10.96.0.5', port: 80, externalIPs: ['203.0.113.9'] }),
        service({ name: 'x2', clusterIP: '10.96.0.6', port: 80, externalIPs: ['203.0.113.9'] }),
      ),
      { ...opts, scheduler: 'maglev' },
    );
    const w = plan.warnings.map((e) => `${e.name} ${e.field}: ${e.reason}`);
    assert.equal(w.length, 3, w.join('\n'));
    assert.match(
      w.find((x) => x.startsWith('sctp'))!,
      /SCTP is not supported/,
    );
    assert.match(
      w.find((x) => x.startsWith('odd'))!,
      /metadata\.annotations\[kproxy\.io\/scheduler\]: unknown scheduler "wlc".*using maglev/,
    );
    assert.match(
      w.find((x) => x.startsWith('x2'))!,
      /203\.0\.113\.9 port 80 is already served by default\/x1/,
    );
    assert.equal(plan.servicePorts.get([...plan.servicePorts.keys()].find((k) => k.includes('/odd'))!)!.scheduler, 'maglev');
    assert.ok(plan.listeners.has('TCP/10.96.0.4/80'));
  });

  it('an unknown --ipvs-scheduler stops the userspace mode at start, naming the setting', () => {
    assert.throws(() => new Harness({ ipvs: { ...defaultConfig().ipvs, scheduler: 'wlc' } }), /ipvs\.scheduler: unknown scheduler "wlc"/);
  });

  it('loadBalancerSourceRanges admit only clients inside them', () => {
    const route = { sourceRanges: parseRanges(['198.51.100.0/24', '2001:db8::/32']) } as never;
    assert.equal(allowedSource(route, '198.51.100.7'), true);
    assert.equal(allowedSource(route, '::ffff:198.51.100.7'), true);
    assert.equal(allowedSource(route, '2001:db8::1'), true);
    assert.equal(allowedSource(route, '203.0.113.1'), false);
  });
});
