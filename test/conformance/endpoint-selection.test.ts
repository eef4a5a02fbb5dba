// Upstream kube-proxy's endpoint-selection cases (CategorizeEndpoints), replayed through the
// whole model: objects → validation → ChangeTracker → ProxyState. Data: ../shared/conformance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker } from '../../src/model/tracker.js';
import { node, service, slice } from '../helpers/objects.js';
import { conformanceData } from '../helpers/conformance.js';

interface CaseEndpoint {
  endpoint: string;
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  zoneHints?: string[];
  nodeHints?: string[];
}
interface Case {
  name: string;
  nodeName?: string;
  nodeLabels: Record<string, string>;
  featureGates?: Record<string, boolean>;
  service: { clusterIP: string; port: number; protocol: string; type: string; externalTrafficPolicy: string; internalTrafficPolicy: string; nodePort?: number };
  endpoints: CaseEndpoint[];
  expected: { clusterEndpoints: string[] | null; localEndpoints: string[] | null; allLocallyReachableEndpoints: string[] };
}

const data = conformanceData();
const cases: Case[] = data?.endpointSelectionTests.cases ?? [];

const sorted = (l: readonly { endpoint: string }[] | null) => (l === null ? null : l.map((e) => e.endpoint).sort());
const sortedStrings = (l: string[] | null) => (l === null ? null : [...l].sort());

if (data)
  describe('conformance: endpoint selection (upstream CategorizeEndpoints)', () => {
    it('has cases to run', () => assert.ok(cases.length >= 20, `only ${cases.length} cases`));
    for (const c of cases) {
      it(c.name, () => {
        const nodeName = c.nodeName ?? 'test-node';
        const tracker = new ChangeTracker({ nodeName, preferSameNode: c.featureGates?.PreferSameTrafficDistribution ?? true });
        tracker.upsert(node(nodeName, c.nodeLabels ?? {}));
        const s = c.service;
        assert.equal(
          tracker.upsert(
            service('ns', 'svc', {
              type: s.type,
              clusterIP: s.clusterIP,
              externalTrafficPolicy: s.externalTrafficPolicy,
              internalTrafficPolicy: s.internalTrafficPolicy,
              ports: [{ name: 'p', port: s.port, protocol: s.protocol, ...(s.nodePort ? { nodePort: s.nodePort } : {}) }],
            }),
          ),
          null,
        );
        const port = Number(c.endpoints[0]?.endpoint.split(':')[1] ?? 80);
        assert.equal(
          tracker.upsert(
            slice(
              'ns',
              'svc',
              'svc-1',
              c.endpoints.map((e) => ({
                ip: e.endpoint.split(':')[0],
                node: e.isLocal ? nodeName : 'some-other-node',
                ready: e.ready,
                serving: e.serving,
                terminating: e.terminating,
                zoneHints: e.zoneHints,
                nodeHints: e.nodeHints,
              })),
              [{ name: 'p', port, protocol: s.protocol }],
            ),
          ),
          null,
        );
        const state = tracker.snapshot();
        assert.equal(state.errors.length, 0, JSON.stringify(state.errors));
        const sp = [...state.servicePorts.values()][0];
        assert.ok(sp, 'the service port exists');
        assert.deepEqual(sorted(sp.clusterEndpoints), sortedStrings(c.expected.clusterEndpoints), 'clusterEndpoints');
        assert.deepEqual(sorted(sp.localEndpoints), sortedStrings(c.expected.localEndpoints), 'localEndpoints');
        assert.deepEqual(sorted(sp.allReachableEndpoints), sortedStrings(c.expected.allLocallyReachableEndpoints), 'allLocallyReachableEndpoints');
      });
    }
  });
