// `kproxy cleanup` for the ipvs mode: the virtual services kproxy made, the kube-ipvs0
// interface, its KUBE-* iptables chains with their jumps, and its ipsets; nothing else.
//
// Which virtual services are kproxy's is read from what kproxy left in the kernel, so that no
// state file is needed: an address bound on kube-ipvs0 or listed in its ClusterIP, externalIP
// and LoadBalancer sets, or a node port listed in its node-port sets. Another program's
// virtual services stay.
//
// The chains: iptables mode uses some of the same names (KUBE-SERVICES, KUBE-MARK-MASQ, ...).
// A table is taken to hold ipvs mode's rules only when a chain that only ipvs mode creates is
// there (KUBE-IPVS-FILTER in filter; KUBE-LOAD-BALANCER or KUBE-NODE-PORT in nat); otherwise
// the table is left to the iptables mode's cleanup.
import { existsSync } from 'node:fs';
import type { IPFamily } from '../../api/ip.js';
import type { ModeCleanup } from '../cleanup.js';
import { exec as defaultExec, must, type Exec } from './exec.js';
import { setName, SETS, type SetKey } from './ipsets.js';
import { FILTER_CHAINS, jumps, NAT_CHAINS } from './iptables.js';
import { deleteService, parseList } from './ipvsadm.js';
import { DUMMY_INTERFACE, serviceId, type IpvsProtocol, type KernelVirtualService } from './table.js';

const FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

/** What the kernel holds, as read before anything is removed (null: that part is absent). */
export interface CleanupInput {
  /** `ipvsadm -L -n`. */
  ipvsList: string | null;
  /** Addresses on kube-ipvs0; null when the interface does not exist. */
  dummyAddresses: string[] | null;
  /** `ipset save`. */
  ipsetSave: string | null;
  /** `iptables-save` / `ip6tables-save`. */
  iptablesSave: Partial<Record<IPFamily, string>>;
}

export interface CleanupPlan {
  /** `ipvsadm -R` input deleting kproxy's virtual services. */
  ipvsadm: string;
  deletedServices: string[];
  /** `iptables-restore --noflush` input per family. */
  iptables: Partial<Record<IPFamily, string>>;
  /** `ipset restore` input destroying kproxy's sets. */
  ipset: string;
  destroyedSets: string[];
  deleteLink: boolean;
}

/** kproxy's set names, both families, and the temporary ones a sync may leave behind. */
function isKproxySet(name: string): boolean {
  if (name.startsWith('KPROXY-TMP-')) return true;
  return FAMILIES.some((f) => (Object.keys(SETS) as SetKey[]).some((k) => setName(k, f) === name));
}

/** Members by set name, from `ipset save`. */
function setMembers(save: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of save.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'create' && f[1]) out.set(f[1], out.get(f[1]) ?? []);
    if (f[0] === 'add' && f[1] && f[2]) out.set(f[1], [...(out.get(f[1]) ?? []), f[2]]);
  }
  return out;
}

/** Which virtual services are kproxy's, by the addresses and ports it left behind. */
function ownedService(input: CleanupInput, members: Map<string, string[]>): (vs: KernelVirtualService) => boolean {
  const addresses = new Set(input.dummyAddresses ?? []);
  const ipPorts = new Set<string>(); // "10.96.0.10,tcp:80"
  const nodePorts = new Set<string>(); // "IPv4 tcp 30080"
  for (const family of FAMILIES) {
    for (const k of ['clusterIP', 'externalIP', 'externalIPLocal', 'loadBalancer', 'nodePortSCTP', 'nodePortLocalSCTP'] as const) {
      for (const m of members.get(setName(k, family)) ?? []) ipPorts.add(m);
    }
    const byProto: [SetKey, IpvsProtocol][] = [
      ['nodePortTCP', 'tcp'],
      ['nodePortLocalTCP', 'tcp'],
      ['nodePortUDP', 'udp'],
      ['nodePortLocalUDP', 'udp'],
    ];
    for (const [k, proto] of byProto) for (const port of members.get(setName(k, family)) ?? []) nodePorts.add(`${family} ${proto} ${port}`);
  }
  return (vs) => {
    const family: IPFamily = vs.address.includes(':') ? 'IPv6' : 'IPv4';
    return addresses.has(vs.address) || ipPorts.has(`${vs.address},${vs.protocol}:${vs.port}`) || nodePorts.has(`${family} ${vs.protocol} ${vs.port}`);
  };
}

/** The restore input removing ipvs mode's jumps and chains from one family's tables. */
function iptablesCleanup(save: string): string | null {
  const chains = new Map<string, Set<string>>();
  const rules = new Map<string, string[]>();
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':')) chains.set(table, (chains.get(table) ?? new Set()).add(line.slice(1, line.indexOf(' '))));
    else if (line.startsWith('-A ')) rules.set(table, [...(rules.get(table) ?? []), line.trim()]);
  }
  const ipvsOnly: Record<'nat' | 'filter', string[]> = { nat: ['KUBE-LOAD-BALANCER', 'KUBE-NODE-PORT'], filter: ['KUBE-IPVS-FILTER'] };
  const ours: Record<'nat' | 'filter', readonly string[]> = { nat: NAT_CHAINS, filter: FILTER_CHAINS };
  const out: string[] = [];
  for (const t of ['nat', 'filter'] as const) {
    const have = chains.get(t) ?? new Set();
    if (!ipvsOnly[t].some((c) => have.has(c))) continue;
    const quote = (a: string) => (/[\s"]/.test(a) ? `"${a}"` : a);
    const jumpLines = new Set(
      jumps()
        .filter((j) => j.table === t)
        .map((j) => `-A ${j.chain} ${j.rule.map(quote).join(' ')}`),
    );
    // Every copy of a jump goes (a crash between two syncs may have left two).
    const deletes = (rules.get(t) ?? []).filter((l) => jumpLines.has(l)).map((l) => '-D' + l.slice(2));
    const present = ours[t].filter((c) => have.has(c));
    out.push(`*${t}`, ...deletes, ...present.map((c) => `:${c} - [0:0]`), ...present.map((c) => `-X ${c}`), 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : null;
}

/** Pure: from what the kernel holds to the commands that remove kproxy's part of it. */
export function planCleanup(input: CleanupInput): CleanupPlan {
  const members = setMembers(input.ipsetSave ?? '');
  const owned = ownedService(input, members);
  const services = input.ipvsList ? parseList(input.ipvsList).filter(owned) : [];
  const iptables: CleanupPlan['iptables'] = {};
  for (const f of FAMILIES) {
    const text = input.iptablesSave[f] ? iptablesCleanup(input.iptablesSave[f]) : null;
    if (text) iptables[f] = text;
  }
  const destroyedSets = [...members.keys()].filter(isKproxySet).sort();
  return {
    ipvsadm: services.map((vs) => deleteService(vs) + '\n').join(''),
    deletedServices: services.map(serviceId),
    iptables,
    ipset: destroyedSets.map((s) => `destroy ${s}\n`).join(''),
    destroyedSets,
    deleteLink: input.dummyAddresses !== null,
  };
}

async function read(run: Exec, cmd: string, args: string[]): Promise<string | null> {
  const r = await run(cmd, args);
  return r.code === 0 ? r.stdout : null;
}

/** Reads the kernel's state. Never loads a module: without /proc/net/ip_vs there is no IPVS table to read. */
async function readInput(run: Exec, procNetIpVs: string): Promise<CleanupInput> {
  const link = await run('ip', ['-o', 'addr', 'show', 'dev', DUMMY_INTERFACE]);
  const iptablesSave: CleanupInput['iptablesSave'] = {};
  for (const f of FAMILIES) {
    const save = await read(run, f === 'IPv4' ? 'iptables-save' : 'ip6tables-save', []);
    if (save !== null) iptablesSave[f] = save;
  }
  return {
    ipvsList: existsSync(procNetIpVs) ? await read(run, 'ipvsadm', ['-L', '-n']) : null,
    dummyAddresses: link.code === 0 ? [...link.stdout.matchAll(/\binet6? ([0-9a-fA-F.:]+)\//g)].map((m) => m[1]) : null,
    ipsetSave: await read(run, 'ipset', ['save']),
    iptablesSave,
  };
}

export function ipvsCleanup(opts: { exec?: Exec; procNetIpVs?: string } = {}): ModeCleanup {
  const run = opts.exec ?? defaultExec;
  return {
    plan: () =>
      `# ipvs: delete the IPVS virtual services whose addresses are on ${DUMMY_INTERFACE} or in kproxy's ipsets (ipvsadm -D), ` +
      `the ipvs mode's KUBE-* chains and jump rules (iptables-restore --noflush), kproxy's ipsets (ipset destroy) and ${DUMMY_INTERFACE} (ip link del)\n`,
    async run() {
      const plan = planCleanup(await readInput(run, opts.procNetIpVs ?? '/proc/net/ip_vs'));
      const out: string[] = [];
      // Rules first (they refer to the sets), then the sets, then the table, then the addresses.
      for (const f of FAMILIES) {
        const text = plan.iptables[f];
        if (!text) continue;
        await must(run, f === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore', ['--noflush'], text);
        out.push(`ipvs: deleted the ipvs mode's KUBE-* chains and jump rules (${f})`);
      }
      if (plan.ipset) {
        await must(run, 'ipset', ['restore'], plan.ipset);
        out.push(`ipvs: destroyed ${plan.destroyedSets.length} ipsets (${plan.destroyedSets.join(', ')})`);
      }
      if (plan.ipvsadm) {
        await must(run, 'ipvsadm', ['-R'], plan.ipvsadm, { stderrIsError: true });
        out.push(`ipvs: deleted ${plan.deletedServices.length} IPVS virtual services`);
      }
      if (plan.deleteLink) {
        await must(run, 'ip', ['link', 'del', DUMMY_INTERFACE]);
        out.push(`ipvs: deleted the interface ${DUMMY_INTERFACE}`);
      }
      return out;
    },
  };
}
