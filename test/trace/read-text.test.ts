import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRulesetText } from '../../src/trace/read-text.js';

test('a ruleset reads as UTF-8 text whether it is ASCII (Latin-1 fast path) or not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-read-text-'));
  try {
    for (const [name, text] of [
      ['ascii.nft', 'table ip kproxy {\n\tchain services { comment "default/web" }\n}\n'],
      ['utf8.nft', 'table ip kproxy {\n\tchain services { comment "café → ü 日本" }\n}\n'],
      ['empty.nft', ''],
    ]) {
      const file = join(dir, name);
      writeFileSync(file, text);
      assert.equal(readRulesetText(file), text, name);
      assert.equal(readRulesetText(file), readFileSync(file, 'utf8'), name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
