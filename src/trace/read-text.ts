// Reads a saved ruleset for `kproxy trace --ruleset`. Rulesets are ASCII nearly always (names
// and comments come from Kubernetes object names); for ASCII bytes a Latin-1 decode gives
// the same text as UTF-8 at about half the cost, which a cold start of a 10 MB ruleset
// notices (~55 ms of CPU). Anything else is decoded as UTF-8.
import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';

export function readRulesetText(file: string): string {
  const bytes = readFileSync(file);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}
