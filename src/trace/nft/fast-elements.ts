// A fast path for the element lists that make up most of a large ruleset (service-ips,
// endpoint slots, hairpin pairs: hundreds of thousands of elements at 10,000 Services).
// When every element of a set is written in canonical form — the form nft prints and kproxy
// writes: dotted IPv4, protocol names, decimal ports, " . " between components, no options —
// one native regex checks the whole list, and the list is kept as it is: a lookup formats its
// key the same canonical way and searches the lists' text for it (a cold `kproxy trace` looks
// up a handful of keys, and splitting 100,000 elements into a Map would cost it more than the
// rest of the trace). Only the element it finds is parsed. Anything else (IPv6, prefixes,
// comments, timeouts, a malformed element) returns false and the set goes through the full
// parser, which names the line of any error; so does a conflict a lookup finds (an element
// added twice with different values, deleted when absent) — the full parser then names it.
// Lazily, as everything the packet does not reach: a conflict in an element no lookup asks
// for is only found by `--check-all`, which indexes every list.
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
 * Checks the set's pending element lists against the canonical form and keeps them for text
 * lookups. Returns false (having changed nothing) when any list is not in canonical form or a
 * verdict names a chain that does not exist (checked here only when `chainExists` is given;
 * otherwise the lookup checks the verdict it finds).
 */
export function tryFastElements(set: NftSet, chainExists: ((name: string) => boolean) | null): boolean {
  if (set.exact.size > 0 || set.ranges.length > 0) return false;
  for (const p of set.pending) {
    const removing = p.verb === 'delete' || p.verb === 'destroy';
    const re = listRegex(set, !removing);
    if (!re) return false;
    const body = p.src.substring(p.span.start, p.span.end);
    if (!re.test(body)) return false;
    // A verdict naming a missing chain: let the full parser report it with its line.
    if (chainExists && set.valueTypes === 'verdict' && !removing) for (const m of body.matchAll(VERDICT_CHAIN)) if (!chainExists(m[1])) return false;
  }
  set.fast = [...(set.fast ?? []), ...set.pending];
  set.pending = [];
  return true;
}
const VERDICT_CHAIN = /: (?:goto|jump) ([^\s,{}"#;]+)/g;

/** What a lookup answers when the lists disagree about its key: only the full parser may say how. */
export const CONFLICT = Symbol('conflict');

/** Looks a key up in the fast index and lists; parses just the element it finds. */
export function fastLookup(set: NftSet, key: readonly Value[]): Element | null | typeof CONFLICT {
  const text = canonicalText(set.keyTypes, key);
  let present = set.raw?.has(text) ?? false;
  let value = set.raw?.get(text) ?? null;
  for (const p of listsWith(set, text)) {
    const removing = p.verb === 'delete' || p.verb === 'destroy';
    const withValue = set.isMap && !removing;
    const body = p.src.substring(p.span.start, p.span.end);
    for (let at = body.indexOf(text); at >= 0; at = body.indexOf(text, at + 1)) {
      const after = at + text.length;
      if (!startsElement(body, at) || !(withValue ? body.startsWith(' : ', after) : endsElement(body, after))) continue;
      if (removing) {
        if (!present && p.verb === 'delete') return CONFLICT;
        present = false;
        value = null;
        continue;
      }
      const v = withValue ? valueAt(body, after + 3) : null;
      if (present && (p.verb === 'create' || v !== value)) return CONFLICT;
      present = true;
      value = v;
    }
  }
  if (!present) return null;
  const k = key.map((v) => ({ lo: v, hi: v }));
  if (value === null) return { key: k, value: null, comment: '', line: set.line };
  if (set.valueTypes === 'verdict') return { key: k, value: parseVerdict(value), comment: '', line: set.line };
  const types = set.valueTypes as Datatype[];
  const parts = value.split(' . ');
  return { key: k, value: parts.map((t, i) => types[i].parse(t)!), comment: '', line: set.line };
}

/**
 * The set's fast lists whose text holds the key's first component, in order. A trace looks up
 * several keys that share it (one per endpoint slot: `service . port . 0`, `… . 1`, …): the
 * lists are searched for it once, and each key only in the few lists that hold it.
 */
function listsWith(set: NftSet, key: string): NonNullable<NftSet['fast']> {
  const lists = set.fast ?? [];
  if (lists.length < 2) return lists;
  const sep = key.indexOf(' . ');
  const first = sep < 0 ? key : key.slice(0, sep + 3);
  let memo = listMemo.get(set);
  if (!memo || memo.lists !== lists) listMemo.set(set, (memo = { lists, byFirst: new Map() }));
  let found = memo.byFirst.get(first);
  if (!found) memo.byFirst.set(first, (found = lists.filter((p) => p.src.substring(p.span.start, p.span.end).includes(first))));
  return found;
}
const listMemo = new WeakMap<NftSet, { lists: NonNullable<NftSet['fast']>; byFirst: Map<string, NonNullable<NftSet['fast']>> }>();

const isBlank = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** In a canonical list, an element starts at the list's start or after a comma. */
function startsElement(body: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isBlank(body.charCodeAt(i))) i--;
  return i < 0 || body.charCodeAt(i) === 44; /* , */
}

function endsElement(body: string, at: number): boolean {
  let i = at;
  while (i < body.length && isBlank(body.charCodeAt(i))) i++;
  return i >= body.length || body.charCodeAt(i) === 44;
}

function valueAt(body: string, from: number): string {
  let end = body.indexOf(',', from);
  if (end < 0) end = body.length;
  while (end > from && isBlank(body.charCodeAt(end - 1))) end--;
  return body.substring(from, end);
}

/**
 * Indexes every element of the set's fast lists into `raw` (counting them, `--check-all`).
 * Returns false, leaving the lists as they were, on a conflict: the full parser then names it.
 */
export function indexFastLists(set: NftSet): boolean {
  if (!set.fast) return true;
  const index = new Map(set.raw ?? []);
  for (const p of set.fast) {
    const removing = p.verb === 'delete' || p.verb === 'destroy';
    const body = p.src.substring(p.span.start, p.span.end);
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
        if (had !== undefined && (p.verb === 'create' || had !== value)) return false;
        index.set(key, value);
      }
    }
  }
  set.raw = index;
  set.fast = undefined;
  return true;
}

/** How many elements the set holds (after its pending lists are applied; fast lists are indexed to count them). */
export function elementCount(set: NftSet): number {
  indexFastLists(set);
  return set.exact.size + set.ranges.length + (set.raw?.size ?? 0);
}

export function parseVerdict(text: string): VerdictValue {
  const sp = text.indexOf(' ');
  if (sp < 0) return { k: text as VerdictValue['k'] };
  return { k: text.slice(0, sp) as VerdictValue['k'], chain: text.slice(sp + 1) };
}
