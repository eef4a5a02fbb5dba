// The text of a full sync as `kproxy rules --proxy-mode iptables` prints it and the /rules
// page shows it: for each family, a header line naming the command it is handed to, then
// exactly the input that command receives on a node where kproxy has not run yet (later full
// syncs leave out the jump rules and stale-chain deletions that are not needed). It is the
// iptables-nft text; on iptables-legacy the `-S` line of large rulesets is left out. With
// localhost NodePorts, on a node whose route_localnet is not 1 yet, the applier's IPv4 mangle
// table also declares the chain that records that value (KUBE-PROXY-ROUTE-LOCALNET-<value>).
import type { IPFamily } from '../../api/ip.js';
import type { ProxyState } from '../../model/types.js';
import { compileServicePort, compileStreamed, familyContext, FAMILIES, portsOf, type CompileConfig, type FamilyRuleset } from './compile.js';
import { jumpRules } from './jumps.js';
import { renderFamily, topLevelRules } from './restore.js';
import { TextBuilder } from '../../util/text-builder.js';

export const familyHeader = (family: IPFamily) => `# ${family}: ${family === 'IPv4' ? 'iptables' : 'ip6tables'}-restore --noflush`;

export function compileText(state: ProxyState, config: CompileConfig): string {
  return FAMILIES.map((f) => {
    // The applier's own full-sync compile and renderer.
    const rs = compileStreamed(portsOf(state, f), familyContext(f, config, state));
    return `${familyHeader(f)}\n${renderFamily(rs, renderOptions(rs))}`;
  }).join('');
}

const renderOptions = (rs: FamilyRuleset) => ({ jumps: jumpRules({ kubeletFirewall: rs.fc.kubeletFirewall }), canary: true, wholeTableCache: true });

/** Stands for the per-service rules in the rendered text; no rule contains a NUL. */
const BODY = '\u0000rules\u0000';

/**
 * compileText in chunks, for the /rules page, which renders a little at a time: an empty
 * chunk after every `slice` ports compiled, where the reader may pause. The per-service rules
 * (most of the text: 32 MB at 10,000 Services × 10 endpoints) come as the compiler's own
 * chunks and are never joined into one string; joining them alone held the event loop for
 * 0.3 s. What is rendered at once: the top-level chains' rules, then the text around the
 * per-service rules (chain declarations, top-level chains).
 */
export function* compileTextChunks(state: ProxyState, config: CompileConfig, slice: number): Generator<string> {
  for (const f of FAMILIES) {
    const fc = familyContext(f, config, state);
    // compileStreamed, with pauses.
    const sink = new TextBuilder(65536);
    const ports = [];
    for (const sp of portsOf(state, f)) {
      ports.push(compileServicePort(sp, fc, sink));
      if (ports.length % slice === 0) yield '';
    }
    const lines = sink.lines;
    const rs: FamilyRuleset = { fc, ports, body: { chunks: [BODY], lines } };
    const body = sink.take();
    yield '';
    const top = topLevelRules(rs);
    yield '';
    // Declarations and top-level chains in one piece (~0.1 s at 10,000 Services × 10 endpoints).
    const text = renderFamily(rs, renderOptions(rs), top);
    const at = text.indexOf(BODY);
    yield `${familyHeader(f)}\n`;
    yield text.slice(0, at);
    yield* body;
    yield text.slice(at + BODY.length);
  }
}
