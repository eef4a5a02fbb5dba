// The loader against the running kernel (root and bpf(2) needed; skipped otherwise): map
// element operations and batches, map info, a verifier rejection with its log in the error,
// and the ebpf mode's programs accepted for both families.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { assemble } from '../../src/bpf/asm.js';
import { HELPER } from '../../src/bpf/helpers.js';
import * as I from '../../src/bpf/insn.js';
import { BpfMap, mapInfo } from '../../src/bpf/map.js';
import { probeBpf, probeHelper, probeSockAddr } from '../../src/bpf/probe.js';
import { BpfProg } from '../../src/bpf/prog.js';
import { BpfError } from '../../src/bpf/syscall.js';
import { MAP_ROLES, mapName, mapSpec } from '../../src/dataplanes/ebpf/layout.js';
import { balancer, PROGRAMS, reverse } from '../../src/dataplanes/ebpf/programs.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : probeBpf() ? `bpf(2) unavailable: ${probeBpf()}` : false;

describe('bpf loader (kernel)', { skip }, () => {
  test('map create, update, lookup, delete, batch update, key walk, info', () => {
    const m = BpfMap.create({ name: 'kproxy_t_hash', type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 64 });
    try {
      const k = (n: number) => Buffer.from([n, 0, 0, 0]);
      m.update(k(1), Buffer.from('aaaaaaaa'));
      assert.equal(m.lookup(k(1))?.toString(), 'aaaaaaaa');
      assert.equal(m.lookup(k(2)), null);
      m.updateBatch(Buffer.concat([k(2), k(3)]), Buffer.from('bbbbbbbbcccccccc'), 2);
      assert.equal(m.lookup(k(3))?.toString(), 'cccccccc');
      assert.deepEqual(
        m
          .keys()
          .map((b) => b[0])
          .sort(),
        [1, 2, 3],
      );
      assert.equal(m.delete(k(2)), true);
      assert.equal(m.delete(k(2)), false);
      assert.deepEqual(
        m
          .entries()
          .map(([kk, v]) => `${kk[0]}=${v}`)
          .sort(),
        ['1=aaaaaaaa', '3=cccccccc'],
      );
      const info = mapInfo(m.fd);
      assert.deepEqual([info.type, info.keySize, info.valueSize, info.maxEntries, info.name], [1, 4, 8, 64, 'kproxy_t_hash']);
      assert.throws(() => m.update(Buffer.alloc(3), Buffer.alloc(8)), /key of 3 bytes, expected 4/);
    } finally {
      m.close();
    }
  });

  test('a program the verifier rejects: EACCES with the verifier log in the message', () => {
    const m = BpfMap.create({ name: 'kproxy_t_v', type: 'HASH', keySize: 4, valueSize: 4, maxEntries: 1 });
    try {
      // The map value is dereferenced without the NULL check the verifier insists on.
      const prog = assemble([
        I.st('W', I.R10, -4, 0),
        I.ldMap(I.R1, 'm'),
        I.mov64Reg(I.R2, I.R10),
        I.alu64Imm('add', I.R2, -4),
        I.call(HELPER.map_lookup_elem),
        I.ldx('W', I.R0, I.R0, 0),
        I.mov64Imm(I.R0, 1),
        I.exit(),
      ]);
      assert.throws(
        () => BpfProg.load({ name: 'kproxy_t_bad', type: 'CGROUP_SOCK_ADDR', attachType: 'CGROUP_INET4_CONNECT', program: prog }, () => m.fd),
        (e: unknown) => e instanceof BpfError && e.errno === 13 && /invalid mem access 'map_value_or_null'/.test(e.message),
      );
    } finally {
      m.close();
    }
  });

  test("the ebpf mode's eight programs pass the verifier; feature probes answer", () => {
    assert.equal(probeSockAddr('CGROUP_INET6_GETPEERNAME'), null);
    assert.equal(probeHelper('CGROUP_INET4_CONNECT', 'get_netns_cookie'), null);
    const maps = new Map<string, BpfMap>();
    try {
      for (const f of ['4', '6'] as const) for (const r of MAP_ROLES) maps.set(mapName(r, f), BpfMap.create(mapSpec(r, f)));
      const setRetval = probeHelper('CGROUP_INET4_CONNECT', 'set_retval') === null;
      for (const d of PROGRAMS) {
        const program = d.kind === 'balancer' ? balancer(d.family, { setRetval }) : reverse(d.family);
        BpfProg.load({ name: d.name, type: 'CGROUP_SOCK_ADDR', attachType: d.attachType, program }, (n) => maps.get(n)!.fd).close();
      }
    } finally {
      for (const m of maps.values()) m.close();
    }
  });
});

test('the balancer program names exactly the maps of its family', () => {
  assert.deepEqual([...balancer('4', { setRetval: true }).maps].sort(), ['kproxy_aff4', 'kproxy_be4', 'kproxy_mem4', 'kproxy_rev4', 'kproxy_svc4']);
  assert.deepEqual([...reverse('6').maps], ['kproxy_rev6']);
  // Without bpf_set_retval the reject path has no call to it.
  const calls = (p: ReturnType<typeof balancer>) => p.insns.filter((i) => i.code === 0x85 && i.imm === HELPER.set_retval).length;
  assert.equal(calls(balancer('4', { setRetval: true })), 1);
  assert.equal(calls(balancer('4', { setRetval: false })), 0);
});
