// The ruleset text as the /rules page serves it (sliced render), from both variants: the
// plain page without its first line, and the JSON page's `ruleset`.
import assert from 'node:assert/strict';
import type { AppliedRuleset } from '../../src/dataplanes/dataplane.js';
import { servedRuleset } from '../../src/rules/page.js';

export async function servedText(r: AppliedRuleset): Promise<{ text: string; json: string }> {
  assert.ok(r.chunks, 'the ruleset offers a sliced render');
  const served = servedRuleset();
  const plain = Buffer.concat((await served.body(r, 'text', false)).parts).toString('utf8');
  const json = JSON.parse(Buffer.concat((await served.body(r, 'json', false)).parts).toString('utf8')) as { ruleset: string; generation: number };
  assert.equal(json.generation, r.generation);
  assert.match(plain, new RegExp(`^# kproxy ${r.mode} ruleset, applied .* \\(generation ${r.generation}, `));
  return { text: plain.slice(plain.indexOf('\n') + 1), json: json.ruleset };
}
