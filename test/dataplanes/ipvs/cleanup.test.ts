import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ipvsCleanup, planCleanup } from '../../../src/dataplanes/ipvs/cleanup.js';
import type { Exec } from '../../../src/dataplanes/ipvs/exec.js';

const LIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.10:80 rr
  -> 10.244.1.11:8080             Masq    1      0          0
TCP  192.168.50.1:30080 rr
  -> 10.244.1.11:8080             Masq    1      0          0
UDP  192.168.50.1:30053 rr
TCP  192.168.50.1:22 rr
  -> 10.0.0.9:22                  Masq    1      0          0
TCP  10.1.2.3:80 wlc
TCP  203.0.113.7:443 rr
`;

const IPSETS = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 1048576
add KUBE-CLUSTER-IP 10.96.0.10,tcp:80
create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 1048576
add KUBE-LOAD-BALANCER 203.0.113.7,tcp:443
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30080
create KUBE-NODE-PORT-UDP bitmap:port range 0-65535
create KUBE-6-NODE-PORT-UDP bitmap:port range 0-65535
add KUBE-6-NODE-PORT-UDP 30053
create KPROXY-TMP-4-3 hash:ip family inet hashsize 1024 maxelem 1048576
create someone-elses hash:ip family inet hashsize 1024 maxelem 65536
`;

const IPVS_NAT_FILTER = `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
:OTHER - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -j OTHER
-A KUBE-SERVICES -j KUBE-MARK-MASQ
COMMIT
*filter
:INPUT ACCEPT [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-FORWARD - [0:0]
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A INPUT -j ACCEPT
COMMIT
`;

test('cleanup: only the virtual services at kproxy addresses and node ports, every kproxy set, the link', () => {
  const plan = planCleanup({ ipvsList: LIST, dummyAddresses: ['10.96.0.10'], ipsetSave: IPSETS, iptablesSave: {} });
  assert.deepEqual(plan.deletedServices, ['tcp 10.96.0.10:80', 'tcp 192.168.50.1:30080', 'tcp 203.0.113.7:443']);
  assert.equal(plan.ipvsadm, '-D -t 10.96.0.10:80\n-D -t 192.168.50.1:30080\n-D -t 203.0.113.7:443\n');
  // UDP 30053 is an IPv6 node port in the sets, not an IPv4 one; 192.168.50.1:22 and 10.1.2.3:80 are not kproxy's.
  assert.deepEqual(plan.destroyedSets, ['KPROXY-TMP-4-3', 'KUBE-6-NODE-PORT-UDP', 'KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER', 'KUBE-NODE-PORT-TCP', 'KUBE-NODE-PORT-UDP']);
  assert.equal(plan.deleteLink, true);
  assert.deepEqual(planCleanup({ ipvsList: null, dummyAddresses: null, ipsetSave: null, iptablesSave: {} }), {
    ipvsadm: '',
    deletedServices: [],
    iptables: {},
    ipset: '',
    destroyedSets: [],
    deleteLink: false,
  });
});

test("cleanup: the ipvs mode's chains and every copy of its jumps; other rules and iptables mode's tables stay", () => {
  const plan = planCleanup({ ipvsList: null, dummyAddresses: null, ipsetSave: null, iptablesSave: { IPv4: IPVS_NAT_FILTER } });
  assert.equal(
    plan.iptables.IPv4,
    [
      '*nat',
      '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-NODE-PORT - [0:0]',
      ':KUBE-LOAD-BALANCER - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      '-X KUBE-SERVICES',
      '-X KUBE-POSTROUTING',
      '-X KUBE-NODE-PORT',
      '-X KUBE-LOAD-BALANCER',
      '-X KUBE-MARK-MASQ',
      'COMMIT',
      '*filter',
      '-D INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER',
      ':KUBE-FORWARD - [0:0]',
      ':KUBE-IPVS-FILTER - [0:0]',
      '-X KUBE-FORWARD',
      '-X KUBE-IPVS-FILTER',
      'COMMIT',
      '',
    ].join('\n'),
  );
  // iptables mode's KUBE-SERVICES without any ipvs-only chain: not this mode's to remove.
  const iptablesMode = '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-ABC - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n';
  assert.deepEqual(planCleanup({ ipvsList: null, dummyAddresses: null, ipsetSave: null, iptablesSave: { IPv4: iptablesMode } }).iptables, {});
});

test('cleanup runs rules, then sets, then the table, then the link, and reports each', async () => {
  const calls: string[] = [];
  const exec: Exec = async (cmd, args, input) => {
    calls.push(`${cmd} ${args.join(' ')}${input ? ` <<${input.split('\n').length - 1} lines` : ''}`);
    if (cmd === 'ip' && args[0] === '-o') return { code: 0, stdout: '9: kube-ipvs0    inet 10.96.0.10/32 scope global kube-ipvs0\n', stderr: '' };
    if (cmd === 'iptables-save') return { code: 0, stdout: IPVS_NAT_FILTER, stderr: '' };
    if (cmd === 'ip6tables-save') return { code: 0, stdout: '', stderr: '' };
    if (cmd === 'ipset' && args[0] === 'save') return { code: 0, stdout: IPSETS, stderr: '' };
    if (cmd === 'ipvsadm' && args[0] === '-L') return { code: 0, stdout: LIST, stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  const lines = await ipvsCleanup({ exec, procNetIpVs: '/proc/self/stat' }).run();
  assert.deepEqual(calls.slice(5), ['iptables-restore --noflush <<22 lines', 'ipset restore <<6 lines', 'ipvsadm -R <<3 lines', 'ip link del kube-ipvs0']);
  assert.equal(lines.length, 4);
  assert.match(lines[2], /deleted 3 IPVS virtual services/);
});
