// Conformance for the ebpf mode's socket stage: replays the flows of
// ../shared/conformance/kube-proxy-flows.yaml that socket-level load balancing serves — a
// connection from a Pod (a source in the cluster CIDR) or from the node to a ClusterIP and
// port of a Service — against the maps a full sync compiles (ChangeTracker → ProxyState →
// ebpf compiler → Service tables → decoded maps → traceSocket). Checked: the endpoint set and
// exact probabilities, REJECT and DROP. Not checked: masquerade (a translated connect()
// keeps the Pod's own address; upstream masquerades hairpin and masqueradeAll traffic).
// A flow to a ClusterIP on a port the Service does not have is refused (the programs' second
// lookup), as upstream REJECTs it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, joinHostPort, parseCIDR, parseIP } from '../../src/api/ip.js';
import type { KubeObject } from '../../src/api/types.js';
import { compiledMaps } from '../../src/dataplanes/ebpf/inspect.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { traceSocket } from '../../src/trace/bpf.js';
import { Fraction } from '../../src/trace/fraction.js';
import { traceJSON, type Packet, type Protocol } from '../../src/trace/result.js';
import { conformanceData } from '../helpers/conformance.js';

interface Expected {
  endpoints?: string[];
  verdict?: string;
  masq: boolean;
}
interface Flow {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol?: string;
  backends?: string[];
  expected: Expected;
  expectedByBackend?: Record<string, Expected>;
}
interface Step {
  apply?: KubeObject[];
  delete?: { kind: 'Service' | 'EndpointSlice' | 'Node'; namespace: string; name: string }[];
  flows: Flow[];
}
interface FlowTest {
  id: string;
  backends: string[];
  config?: { nodeName?: string };
  steps: Step[];
}

const doc = conformanceData();
if (doc) {
  const env = doc.defaults.environment;
  const nodeAddresses: string[] = (env.interfaces.eth0 as string[]).map((c) => c.split('/')[0]);
  const podCIDRs = Object.values(doc.defaults.proxier.common.localDetector.clusterCIDRs as Record<string, string>).map((c) => parseCIDR(c)!);
  const fromPodOrNode = (ip: string) => nodeAddresses.includes(ip) || podCIDRs.some((c) => cidrContains(c, ip));
  const norm = (e: string) => e.replace(/^\[?([^\]]+?)\]?:(\d+)$/, (_, ip, p) => joinHostPort(parseIP(ip)!.ip, Number(p)));
  const differences: string[] = [];
  let checked = 0;

  describe('conformance flows through the ebpf socket stage', () => {
    for (const t of doc.tests as FlowTest[]) {
      if (!t.backends.includes('nftables')) continue;
      it(t.id, () => {
        const tracker = new ChangeTracker({ nodeName: t.config?.nodeName ?? env.nodeName, machineAddresses: nodeAddresses });
        for (const step of t.steps) {
          for (const o of step.apply ?? []) assert.equal(tracker.upsert(o), null);
          for (const d of step.delete ?? []) tracker.delete(d.kind, d.namespace, d.name);
          const state = tracker.snapshot();
          const maps = compiledMaps(state);
          const clusterIPs = new Set([...state.servicePorts.values()].map((sp) => sp.clusterIP));
          for (const f of step.flows) {
            if (!(f.backends ?? t.backends).includes('nftables')) continue;
            const src = parseIP(f.sourceIP)!;
            const dst = parseIP(f.destIP)!.ip;
            if (!fromPodOrNode(src.ip) || !clusterIPs.has(dst)) continue;
            const expected = f.expectedByBackend?.nftables ?? f.expected;
            const pkt: Packet = { family: src.family, protocol: (f.protocol ?? doc.defaults.flow.protocol).toLowerCase() as Protocol, src: src.ip, dst, dport: f.destPort, sport: 12345 };
            const where = `${t.id} / ${f.name} (${f.sourceIP} → ${f.destIP}:${f.destPort})`;
            const result = traceSocket(maps.services, pkt);
            if (!result) {
              differences.push(`${where}: upstream ${expected.verdict ?? 'DNAT'}; no socket-level Service on that port, the connect() is left alone`);
              continue;
            }
            checked++;
            const json = traceJSON(result);
            if (expected.endpoints) {
              assert.equal(json.verdict, 'DNAT', where);
              assert.deepEqual(json.endpoints.map((e) => joinHostPort(e.ip, e.port)).sort(), expected.endpoints.map(norm).sort(), `${where}: endpoint set`);
              let sum = Fraction.ZERO;
              for (const o of result.outcomes) sum = sum.plus(o.probability);
              assert.ok(sum.equals(Fraction.ONE), `${where}: probabilities sum to ${sum}`);
            } else {
              assert.equal(json.verdict, expected.verdict, where);
            }
          }
        }
      });
    }

    it('replayed a meaningful share of the flows, every one answered by the socket stage', () => {
      assert.ok(checked >= 40, `only ${checked} flows checked`);
      assert.deepEqual(differences, []);
    });
  });
}
