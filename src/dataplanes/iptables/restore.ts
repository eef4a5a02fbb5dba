// Renders compiled rules as iptables-restore input. With --noflush, a chain declared with
// ":CHAIN - [0:0]" is created or flushed and the rest of the table is left alone, so a sync
// declares exactly the chains it rewrites: always the top-level KUBE-* chains, and the
// per-service chains of the ports being written (all on a full sync, the changed ones on a
// partial sync). Chains that no longer exist are declared (flushed) and then deleted with -X.
import type { FamilyContext, FamilyRuleset, PortRules } from './compile.js';
import { CANARY, jumpRuleText, type JumpRule } from './jumps.js';

export const FILTER_CHAINS = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL'] as const;
export const NAT_CHAINS = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING'] as const;
/** Kept in sync with kubelet's chain of the same name; written only with localhost NodePorts. */
export const KUBELET_FIREWALL = 'KUBE-FIREWALL';

export interface RenderOptions {
  /** Ports whose own chains are written; undefined = all (full sync). */
  write?: (p: PortRules) => boolean;
  /** Per-service chains to delete (flushed first, then -X). */
  deleteChains?: readonly string[];
  /** Jump rules to insert into the built-in chains (full syncs: those not there yet). */
  jumps?: readonly JumpRule[];
  /** Declare the KUBE-PROXY-CANARY chains (full syncs). */
  canary?: boolean;
}

const decl = (name: string) => `:${name} - [0:0]`;

/** The filter table's static rules. */
function filterStatic(fc: FamilyContext): { chains: string[]; firewall: string[]; forward: string[] } {
  const chains: string[] = [...FILTER_CHAINS];
  const firewall: string[] = [];
  if (fc.kubeletFirewall) {
    chains.push(KUBELET_FIREWALL);
    firewall.push(`-A ${KUBELET_FIREWALL} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`);
  }
  const forward: string[] = [];
  // Without nf_conntrack_tcp_be_liberal, out-of-window packets are INVALID and would
  // otherwise reach a pod un-NATed and reset the connection.
  if (!fc.tcpBeLiberal) forward.push('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
  forward.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${fc.mark}/${fc.mark} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  return { chains, firewall, forward };
}

function natStatic(fc: FamilyContext): string[] {
  return [
    `-A KUBE-POSTROUTING -m mark ! --mark ${fc.mark}/${fc.mark} -j RETURN`,
    // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${fc.mark}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${fc.mark}`,
  ];
}

/** The NodePort dispatch; it must stay the last rule of nat KUBE-SERVICES. */
function nodePortDispatch(fc: FamilyContext): string[] {
  const c = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (fc.nodePortIPs === null) {
    let dst = '-m addrtype --dst-type LOCAL';
    // Localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet.
    if (fc.family === 'IPv6') dst += ' ! -d ::1/128';
    else if (!fc.localhostNodePorts) dst += ' ! -d 127.0.0.0/8';
    return [`-A KUBE-SERVICES ${c} ${dst} -j KUBE-NODEPORTS`];
  }
  const out: string[] = [];
  for (const ip of fc.nodePortIPs) {
    const loopback = ip === '::1' || ip.startsWith('127.');
    if (loopback && !fc.localhostNodePorts) continue;
    out.push(`-A KUBE-SERVICES ${c} -d ${ip} -j KUBE-NODEPORTS`);
  }
  return out;
}

/** iptables-restore input for one family's tables (filter, then nat). */
export function renderFamily(rs: FamilyRuleset, opts: RenderOptions = {}): string {
  const { fc, ports } = rs;
  const lines: string[] = [];
  const fs = filterStatic(fc);
  const jumps = (table: string) => {
    // Inserted in kube-proxy's order, each at the top, so they end up in its order too.
    for (const j of opts.jumps ?? []) if (j.table === table) lines.push(jumpRuleText(j, '-I'));
  };
  if (opts.canary) lines.push('*mangle', decl(CANARY), 'COMMIT');
  lines.push('*filter');
  for (const c of fs.chains) lines.push(decl(c));
  if (opts.canary) lines.push(decl(CANARY));
  jumps('filter');
  for (const p of ports) for (const r of p.filter.nodePorts) lines.push(r);
  for (const p of ports) for (const r of p.filter.services) lines.push(r);
  for (const p of ports) for (const r of p.filter.externalServices) lines.push(r);
  lines.push(...fs.firewall, ...fs.forward);
  for (const p of ports) for (const r of p.filter.firewall) lines.push(r);
  lines.push('COMMIT');

  lines.push('*nat');
  for (const c of NAT_CHAINS) lines.push(decl(c));
  if (opts.canary) lines.push(decl(CANARY));
  const written = opts.write ? ports.filter(opts.write) : ports;
  for (const p of written) for (const c of p.chains) lines.push(decl(c));
  for (const c of opts.deleteChains ?? []) lines.push(decl(c));
  jumps('nat');
  for (const p of ports) for (const r of p.nat.nodePorts) lines.push(r);
  for (const p of ports) for (const r of p.nat.services) lines.push(r);
  lines.push(...nodePortDispatch(fc));
  lines.push(...natStatic(fc));
  for (const p of written) for (const r of p.rules) lines.push(r);
  for (const c of opts.deleteChains ?? []) lines.push(`-X ${c}`);
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}
