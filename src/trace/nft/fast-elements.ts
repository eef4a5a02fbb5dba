// A fast path for the element lists that make up most of a large ruleset (service-ips,
// endpoint slots, hairpin pairs: hundreds of thousands of elements at 10,000 Services).
// When every element of a set is written in canonical form — the form nft prints and kproxy
// writes: dotted IPv4, protocol names, decimal ports, " . " between components, no options —
// one native regex checks the whole list and the elements are indexed by their text, without
// tokenizing them. A lookup formats its key the same canonical way; only the element it finds
// is parsed. Anything else (IPv6, prefixes, comments, timeouts, a malformed element) returns
// null and the set goes through the full parser, which names the line of any error.
import { INET_PROTO, INET_SERVICE, INTEGER, IPV4, type Datatype, type Value } from './datatypes.js';
import type { Element, NftSet, VerdictValue } from './ast.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3}|0)';
const CANONICAL = new Map<Datatype, string>([
  [IPV4, `${OCTET}(?:\\.${OCTET}){3}`],
  [INET_SERVICE, PORT],
  [INTEGER, '(?:[1-9]\\d{0,9}|0)'],
  [INET_PROTO, '(?:tcp|udp|sctp|icmp|dccp|udplite)'],
]);
const VERDICT = '(?:(?:goto|jump) [^\\s,{}"#;]+|drop|accept|return|continue|reject)';
const SEP = /\s*,\s*/;
const regexCache = new Map<string, RegExp>();

/** Canonical text of a key or data tuple, as the fast index stores it. */
export function canonicalText(types: readonly Datatype[], values: readonly Value[]): string {
  let s = types[0].format(values[0]);
  for (let i = 1; i < values.length; i++) s += ' . ' + types[i].format(values[i]);
  return s;
}

function listRegex(set: NftSet, withValues: boolean): RegExp | null {
  const parts: string[] = [];
  for (const dt of set.keyTypes) {
    const c = CANONICAL.get(dt);
    if (!c) return null;
    parts.push(c);
  }
  let element = parts.join(' \\. ');
  if (withValues && set.isMap) {
    if (set.valueTypes === 'verdict') element += ` : ${VERDICT}`;
    else {
      const vs: string[] = [];
      for (const dt of set.valueTypes as Datatype[]) {
        const c = CANONICAL.get(dt);
        if (!c) return null;
        vs.push(c);
      }
      element += ` : ${vs.join(' \\. ')}`;
    }
  }
  const source = `^\\s*(?:${element})(?:\\s*,\\s*(?:${element}))*\\s*,?\\s*$`;
  let re = regexCache.get(source);
  if (!re) regexCache.set(source, (re = new RegExp(source)));
  return re;
}

/**
 * Applies the set's pending element lists through the fast index, in order. Returns false
 * (having changed nothing) when any list is not in canonical form or would be an error.
 */
export function tryFastElements(set: NftSet, chainExists: (name: string) => boolean): boolean {
  if (set.exact.size > 0 || set.ranges.length > 0) return false;
  const index = new Map(set.raw ?? []);
  for (const p of set.pending) {
    const removing = p.verb === 'delete' || p.verb === 'destroy';
    const re = listRegex(set, !removing);
    if (!re) return false;
    const body = p.src.substring(p.span.start, p.span.end);
    if (!re.test(body)) return false;
    for (const item of body.trim().split(SEP)) {
      if (item === '') continue;
      let key = item;
      let value: string | null = null;
      if (set.isMap && !removing) {
        const colon = item.indexOf(' : ');
        key = item.slice(0, colon);
        value = item.slice(colon + 3);
      }
      if (removing) {
        if (!index.delete(key) && p.verb === 'delete') return false;
      } else {
        const had = index.get(key);
        if (had !== undefined) {
          if (p.verb === 'create' || had !== value) return false;
        } else {
          // A verdict naming a missing chain: let the full parser report it with its line.
          if (value !== null && value.charCodeAt(0) !== 100 /* d(rop) */ && set.valueTypes === 'verdict') {
            const chain = parseVerdict(value).chain;
            if (chain !== undefined && !chainExists(chain)) return false;
          }
          index.set(key, value);
        }
      }
    }
  }
  set.raw = index;
  set.pending = [];
  return true;
}

/** Looks a key up in the fast index; parses just the element it finds. */
export function fastLookup(set: NftSet, key: readonly Value[]): Element | null {
  const value = set.raw!.get(canonicalText(set.keyTypes, key));
  if (value === undefined) return null;
  const k = key.map((v) => ({ lo: v, hi: v }));
  if (value === null) return { key: k, value: null, comment: '', line: set.line };
  if (set.valueTypes === 'verdict') return { key: k, value: parseVerdict(value), comment: '', line: set.line };
  const types = set.valueTypes as Datatype[];
  const parts = value.split(' . ');
  return { key: k, value: parts.map((t, i) => types[i].parse(t)!), comment: '', line: set.line };
}

export function parseVerdict(text: string): VerdictValue {
  const sp = text.indexOf(' ');
  if (sp < 0) return { k: text as VerdictValue['k'] };
  return { k: text.slice(0, sp) as VerdictValue['k'], chain: text.slice(sp + 1) };
}
