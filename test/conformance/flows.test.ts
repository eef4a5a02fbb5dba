// Conformance: replays every flow of ../shared/conformance/kube-proxy-flows.yaml (upstream
// kube-proxy's packet-flow expectations, restated as data) through kproxy's real pipeline —
// ChangeTracker → ProxyState → the nftables or iptables compiler → nft text or
// iptables-restore text → the matching trace interpreter — and asserts the endpoint set, the
// verdict and masquerade, as upstream's own tracer does (NOTES.md §2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { compileText } from '../../src/dataplanes/nftables/compile.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { KubeObject } from '../../src/api/types.js';
import { parseIP, joinHostPort } from '../../src/api/ip.js';
import { Fraction } from '../../src/trace/fraction.js';
import { parseNft, traceNft } from '../../src/trace/nft/index.js';
import { compileText as compileIptablesText } from '../../src/dataplanes/iptables/text.js';
import { parseIptables, traceIptables } from '../../src/trace/iptables/index.js';
import { traceJSON, type Packet, type Protocol } from '../../src/trace/result.js';
import { conformanceData } from '../helpers/conformance.js';

type Backend = 'nftables' | 'iptables';
const BACKENDS: Backend[] = ['nftables', 'iptables'];

/** Flows known to fail because of a compiler bug, with the bug. Keep empty when there is none. */
const KNOWN_COMPILER_BUGS: Record<string, string> = {};

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
interface Expected {
  endpoints?: string[];
  verdict?: 'REJECT' | 'DROP' | 'ACCEPT' | 'UNHANDLED';
  masq: boolean;
}
interface Step {
  description?: string;
  apply?: KubeObject[];
  delete?: { kind: 'Service' | 'EndpointSlice' | 'Node'; namespace: string; name: string }[];
  flows: Flow[];
}
interface FlowTest {
  id: string;
  backends: string[];
  family: string;
  config?: { nodeName?: string; nodePortAddresses?: string[]; masqueradeAll?: boolean; localDetector?: { mode: string }; localhostNodePorts?: boolean };
  steps: Step[];
}

const doc = conformanceData();
if (doc) {
  const env = doc.defaults.environment;
  const common = doc.defaults.proxier.common;
  const nft = doc.defaults.proxier.nftables;
  const ipt = doc.defaults.proxier.iptables;
  const nodeAddresses: string[] = (env.interfaces.eth0 as string[]).map((c) => c.split('/')[0]);

  const configFor = (t: FlowTest, backend: Backend): Config => {
    const cfg = defaultConfig();
    cfg.mode = backend;
    cfg.masqueradeBit = common.masqueradeBit;
    cfg.masqueradeAll = t.config?.masqueradeAll ?? common.masqueradeAll;
    const mode = t.config?.localDetector?.mode ?? common.localDetector.mode;
    cfg.detectLocalMode = mode;
    cfg.clusterCIDRs = mode === 'None' ? [] : Object.values(common.localDetector.clusterCIDRs as Record<string, string>);
    cfg.nodePortAddresses = t.config?.nodePortAddresses ?? (backend === 'nftables' ? nft.nodePortAddresses : ipt.nodePortAddresses);
    cfg.serviceClusterIPRange = Object.values(nft.serviceCIDRs as Record<string, string[]>).flat();
    cfg.hostnameOverride = t.config?.nodeName ?? env.nodeName;
    if (backend === 'iptables') {
      cfg.localhostNodePorts = t.config?.localhostNodePorts ?? ipt.localhostNodePorts;
      cfg.conntrack.tcpBeLiberal = ipt.conntrackTCPBeLiberal;
      cfg.nodeIPOverride = [ipt.nodeIP];
    }
    return cfg;
  };

  // The packet's trace through one step's ruleset, for one backend.
  type Tracer = (packet: Packet) => ReturnType<typeof traceJSON> & { sum: Fraction };
  const sumOf = (outcomes: { probability: Fraction }[]) => outcomes.reduce((s, o) => s.plus(o.probability), Fraction.ZERO);

  for (const backend of BACKENDS)
    for (const t of doc.tests as FlowTest[]) {
      if (!t.backends.includes(backend)) continue;
      describe(`${t.id} [${backend}]`, () => {
        const cfg = configFor(t, backend);
        const flowLocals: string[] = env.localAddressesForFlows[backend];
        const tracker = new ChangeTracker({ nodeName: cfg.hostnameOverride, machineAddresses: nodeAddresses });
        // Steps build on each other; each step's ruleset is compiled once, after its objects are
        // applied. nft text is parsed twice: fully checked, and lazily (as `kproxy trace` does) —
        // both must give the same answers. iptables text is `kproxy rules` output, jump rules in the
        // built-in chains included, as `kproxy trace --proxy-mode iptables` reads it.
        const compileStep = (): Tracer => {
          const state = tracker.snapshot();
          if (backend === 'nftables') {
            const text = compileText(state, cfg);
            const full = parseNft(text);
            const lazy = parseNft(text, { lazy: true });
            return (packet) => {
              const result = traceNft(full, packet, { localAddresses: flowLocals });
              const json = traceJSON(result);
              assert.deepEqual(traceJSON(traceNft(lazy, packet, { localAddresses: flowLocals })), json, 'lazy parsing changes nothing');
              return { ...json, sum: sumOf(result.outcomes) };
            };
          }
          const rs = parseIptables(compileIptablesText(state, cfg));
          return (packet) => {
            const result = traceIptables(rs, packet, { localAddresses: flowLocals });
            return { ...traceJSON(result), sum: sumOf(result.outcomes) };
          };
        };
        const rulesets = t.steps.map(() => {
          let tr: Tracer | null = null;
          return (): Tracer => (tr ??= compileStep());
        });
        // Object changes are applied in step order before each step's flows run (node:test runs
        // the its of a describe in order).
        t.steps.forEach((step, si) => {
          it(`step ${si + 1}: ${step.description ?? 'apply objects'}`, () => {
            for (const o of step.apply ?? []) {
              const err = tracker.upsert(o);
              assert.equal(err, null, `object rejected: ${JSON.stringify(err)}`);
            }
            for (const d of step.delete ?? []) tracker.delete(d.kind, d.namespace, d.name);
            rulesets[si]();
          });
          for (const f of step.flows) {
            const backends = f.backends ?? t.backends;
            if (!backends.includes(backend)) continue;
            const id = `${t.id} [${backend}] / ${f.name}`;
            const bug = KNOWN_COMPILER_BUGS[id];
            it(f.name, bug ? { skip: `compiler bug: ${bug}` } : {}, () => {
              const expected = f.expectedByBackend?.[backend] ?? f.expected;
              const src = parseIP(f.sourceIP)!;
              const packet: Packet = {
                family: src.family,
                protocol: (f.protocol ?? doc.defaults.flow.protocol).toLowerCase() as Protocol,
                src: src.ip,
                dst: parseIP(f.destIP)!.ip,
                dport: f.destPort,
                sport: 12345,
              };
              const json = rulesets[si]()(packet);
              const where = `flow "${id}" (${f.sourceIP} → ${f.destIP}:${f.destPort})`;
              if (expected.endpoints) {
                assert.equal(json.verdict, 'DNAT', `${where}: expected DNAT, got ${json.verdict}`);
                const got = json.endpoints.map((e) => joinHostPort(e.ip, e.port)).sort();
                const want = expected.endpoints.map((e) => e.replace(/^\[?([^\]]+?)\]?:(\d+)$/, (_, ip, p) => joinHostPort(parseIP(ip)!.ip, Number(p)))).sort();
                assert.deepEqual(got, want, `${where}: endpoint set`);
                assert.ok(json.sum.equals(Fraction.ONE), `${where}: probabilities sum to ${json.sum}`);
              } else {
                const want = expected.verdict === 'UNHANDLED' ? 'NONE' : expected.verdict;
                assert.equal(json.verdict, want, `${where}: verdict`);
              }
              assert.equal(json.masquerade, expected.masq, `${where}: masquerade`);
            });
          }
        });
      });
    }
}
