// src/util/sysctl.ts against a scratch tree laid out as /proc/sys: both spellings of a key
// reach the same file, a value written is read back, and a key that does not exist reads as
// null (or throws, synchronously) instead of a value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSysctl, readSysctlSync, sysctlName, sysctlPath, writeSysctl, writeSysctlSync } from '../../src/util/sysctl.js';

test('sysctl keys in either spelling; read, write, missing', async () => {
  assert.equal(sysctlPath('net.ipv4.conf.all.route_localnet'), '/proc/sys/net/ipv4/conf/all/route_localnet');
  assert.equal(sysctlPath('net/ipv4/ip_forward'), '/proc/sys/net/ipv4/ip_forward');
  assert.equal(sysctlName('net/netfilter/nf_conntrack_max'), 'net.netfilter.nf_conntrack_max');
  assert.equal(sysctlName('net.ipv4.ip_forward'), 'net.ipv4.ip_forward');
  const root = mkdtempSync(join(tmpdir(), 'kproxy-sysctl-'));
  try {
    mkdirSync(join(root, 'net/ipv4/conf/all'), { recursive: true });
    writeFileSync(join(root, 'net/ipv4/conf/all/route_localnet'), '0\n');
    assert.equal(await readSysctl('net.ipv4.conf.all.route_localnet', root), '0');
    await writeSysctl('net/ipv4/conf/all/route_localnet', 1, root);
    assert.equal(readFileSync(join(root, 'net/ipv4/conf/all/route_localnet'), 'utf8'), '1\n');
    assert.equal(readSysctlSync('net.ipv4.conf.all.route_localnet', root), '1');
    writeSysctlSync('net.ipv4.conf.all.route_localnet', '0', root);
    assert.equal(await readSysctl('net/ipv4/conf/all/route_localnet', root), '0');
    assert.equal(await readSysctl('net.ipv4.no_such_key', root), null);
    assert.throws(() => readSysctlSync('net.ipv4.no_such_key', root), { code: 'ENOENT' });
    await assert.rejects(writeSysctl('net.no_such_dir.key', 1, root), { code: 'ENOENT' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
