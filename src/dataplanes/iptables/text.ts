// The text of a full sync as `kproxy rules --proxy-mode iptables` prints it and the /rules
// page shows it: for each family, a header line naming the command it is handed to, then
// exactly the input that command receives on a node where kproxy has not run yet (later full
// syncs leave out the jump rules and stale-chain deletions that are not needed). It is the
// iptables-nft text; on iptables-legacy the `-S` line of large rulesets is left out. With
// localhost NodePorts, on a node whose route_localnet is not 1 yet, the applier's IPv4 mangle
// table also declares the chain that records that value (KUBE-PROXY-ROUTE-LOCALNET-<value>).
import type { IPFamily } from '../../api/ip.js';
import type { ProxyState } from '../../model/types.js';
import { ByteText, textOf } from '../../util/byte-text.js';
import { asPauses } from '../../util/steps.js';
import { compileSteps, familyContext, FAMILIES, portsOf, type CompileConfig, type FamilyRuleset } from './compile.js';
import { jumpRules } from './jumps.js';
import { renderSizeHint, renderSteps, topLevelSteps, type RenderOptions } from './restore.js';

export const familyHeader = (family: IPFamily) => `# ${family}: ${family === 'IPv4' ? 'iptables' : 'ip6tables'}-restore --noflush`;

/** The whole text at once (`kproxy rules`): the chunks below, without pauses. */
export function compileText(state: ProxyState, config: CompileConfig): string {
  return textOf([...compileTextChunks(state, config, Infinity)]);
}

const renderOptions = (rs: FamilyRuleset): RenderOptions => ({ jumps: jumpRules({ kubeletFirewall: rs.fc.kubeletFirewall }), canary: true, wholeTableCache: true });

/**
 * compileText in chunks, for the /rules page, which renders a little at a time: an empty
 * chunk about every `slice` ports' worth of work, where the reader may pause. The applier's
 * own full-sync compile and render (compileSteps, topLevelSteps, renderSteps), each taken a
 * step at a time; the text comes as the bytes written so far at each step, never joined
 * (32 MB at 10,000 Services × 10 endpoints).
 */
export function* compileTextChunks(state: ProxyState, config: CompileConfig, slice: number): Generator<string | Uint8Array> {
  for (const f of FAMILIES) {
    const rs = yield* asPauses(compileSteps(portsOf(state, f), familyContext(f, config, state), slice));
    const top = yield* asPauses(topLevelSteps(rs, slice));
    yield `${familyHeader(f)}\n`;
    const opts = renderOptions(rs);
    const out = new ByteText({ sizeHint: renderSizeHint(rs, opts) });
    const steps = renderSteps(rs, opts, top, out, slice);
    for (;;) {
      const r = steps.next();
      yield* out.take();
      if (r.done) break;
      yield '';
    }
  }
}
