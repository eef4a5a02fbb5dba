// What a full sync reads in a family's iptables-save (3.3 MB, 43,000 lines at 1,000 Services ×
// 10 endpoints): the per-service chains of the nat table (to delete those no Service uses any
// more), which of kproxy's jump rules the built-in chains hold, and whether the route_localnet
// record chain exists. Read in one pass over the text without splitting it into lines: only
// the lines that matter become strings (a chain declaration in nat, a rule outside the KUBE-*
// chains); the 30,000 rules of kproxy's own chains are skipped by their first bytes.
import { isJumpRule, type JumpRule } from './jumps.js';
import { isServiceChain } from './naming.js';

export interface SavedTables {
  /** Per-service chains (KUBE-SVC/SVL/EXT/FW/SEP-…) declared in the nat table, in save order. */
  serviceChains: string[];
  /** Those of `wanted` found in their built-in chains. */
  present: Set<JumpRule>;
  /** A `:KUBE-PROXY-ROUTE-LOCALNET-<value> ` declaration exists (apply.ts). */
  routeLocalnetRecorded: boolean;
}

const ROUTE_LOCALNET_RECORD = ':KUBE-PROXY-ROUTE-LOCALNET-';
const CHAR_STAR = 42; // '*'
const CHAR_COLON = 58; // ':'
const CHAR_DASH = 45; // '-'

export function readSaved(saved: string, wanted: readonly JumpRule[]): SavedTables {
  const out: SavedTables = { serviceChains: [], present: new Set(), routeLocalnetRecorded: false };
  let table = '';
  for (let at = 0; at < saved.length;) {
    let end = saved.indexOf('\n', at);
    if (end < 0) end = saved.length;
    const first = saved.charCodeAt(at);
    if (first === CHAR_DASH) {
      // Jump rules live in the built-in chains: kproxy's own chains' rules need no look.
      if (saved.startsWith('-A ', at) && !saved.startsWith('-A KUBE-', at)) {
        const line = saved.slice(at, end);
        for (const j of wanted) if (j.table === table && isJumpRule(line, j)) out.present.add(j);
      }
    } else if (first === CHAR_COLON) {
      if (table === 'nat') {
        const space = saved.indexOf(' ', at);
        const name = saved.slice(at + 1, space < 0 || space > end ? end : space);
        if (isServiceChain(name)) out.serviceChains.push(name);
      }
      if (!out.routeLocalnetRecorded && saved.startsWith(ROUTE_LOCALNET_RECORD, at)) out.routeLocalnetRecorded = isRecord(saved, at + ROUTE_LOCALNET_RECORD.length, end);
    } else if (first === CHAR_STAR) {
      table = saved.slice(at + 1, end).trim();
    }
    at = end + 1;
  }
  return out;
}

/** Digits, then a space, from `at` (the value of a route_localnet record declaration). */
function isRecord(text: string, at: number, end: number): boolean {
  let i = at;
  while (i < end && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  return i > at && i < end && text.charCodeAt(i) === 32;
}
