// The ipvs kernel suite, run inside the user-mode-Linux guest by test/kernel/ipvs.test.ts.
// `kproxy run --proxy-mode ipvs` programs a real IPVS kernel in each lab's node namespace,
// and real TCP clients (socat) check where their connections land. Each result goes to
// /run/out/results.json (the guest's one writable host folder), which the host test reads.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, Lab, OUT, run } from './lab.js';
import { loadBalancer, node, service, slice, udpService, udpSlice } from './objects.js';
import { PROJECT_ROOT } from '../uml/launcher.js';

interface CaseResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const results: CaseResult[] = [];

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});

async function group(tag: string, setUp: (lab: Lab) => Promise<void>, cases: [string, (lab: Lab) => Promise<void>][]): Promise<void> {
  const lab = new Lab(tag);
  let setUpError: string | null = null;
  const t0 = Date.now();
  try {
    await lab.build();
    // kproxy starts while the pods do: both are slow in the guest.
    await setUp(lab);
    await lab.podsServing();
  } catch (e) {
    setUpError = `lab ${tag} set-up failed: ${(e as Error).message}`;
  }
  process.stdout.write(`lab ${tag} ready in ${Date.now() - t0} ms\n`);
  try {
    for (const [name, f] of cases) {
      const t = Date.now();
      let error: string | undefined = setUpError ?? undefined;
      if (!error) {
        try {
          await f(lab);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      results.push({ name, ok: !error, ms: Date.now() - t, error });
      process.stdout.write(`${error ? 'FAIL' : 'ok'} ${name} (${Date.now() - t} ms)${error ? `\n  ${error}` : ''}\n`);
      writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 1));
    }
  } finally {
    await lab.destroy();
  }
}

const VIP = { web: '10.96.0.10', sticky: '10.96.0.12', empty: '10.96.0.16', hairpin: '10.96.0.17', rr: '10.96.0.20', sh: '10.96.0.21', lc: '10.96.0.22', drain: '10.96.0.30', dns: '10.96.0.53' };
const EXTERNAL_IP = '192.168.60.10';
const LB = { allowed: '192.168.70.10', denied: '192.168.70.11' };
const NODEPORT = 30080;
const rs = (pod: 'pod1' | 'pod2', w = 1) => `-m -w ${w}`.replace(/^/, `-r ${ADDR[pod]}:8080 `);
const rsLine = (vip: string, pod: 'pod1' | 'pod2', w = 1) => `-a -t ${vip}:80 ${rs(pod, w)}`;

async function trafficGroup(): Promise<void> {
  await group(
    'a',
    async (lab) => {
      lab.put('objects', [
        node(),
        service('web', VIP.web, { nodePort: NODEPORT }),
        slice('web', ['pod1', 'pod2']),
        service('sticky', VIP.sticky, { affinity: true }),
        slice('sticky', ['pod1', 'pod2']),
        service('empty', VIP.empty),
        service('hairpin', VIP.hairpin),
        slice('hairpin', ['pod1']),
        service('rr', VIP.rr, { scheduler: 'rr' }),
        slice('rr', ['pod1', 'pod2']),
        service('sh', VIP.sh, { scheduler: 'sh' }),
        slice('sh', ['pod1', 'pod2']),
        service('lc', VIP.lc, { scheduler: 'lc' }),
        slice('lc', ['pod1', 'pod2']),
        service('drain', VIP.drain),
        loadBalancer('lb', { clusterIP: '10.96.0.40', nodePort: 30081, ingress: LB.allowed, externalIP: EXTERNAL_IP, sourceRanges: [`${ADDR.client}/32`] }),
        slice('lb', ['pod1', 'pod2']),
        loadBalancer('lbdeny', { clusterIP: '10.96.0.41', nodePort: 30082, ingress: LB.denied, sourceRanges: ['10.9.9.0/24'] }),
        slice('lbdeny', ['pod1']),
      ]);
      lab.put('dns', [udpService('dns', VIP.dns), udpSlice('dns', ['pod1', 'pod2'])]);
      // UDP flows must not expire on their own (30 s) while the UDP case waits for kproxy to clear them.
      await lab.inNode(['sh', '-c', 'echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout']);
      lab.put('slice', [slice('drain', ['pod1', 'pod2'])]);
      await lab.startKproxy();
      await lab.waitForIpvs([
        `-A -t ${VIP.web}:80 -s rr`,
        rsLine(VIP.web, 'pod1'),
        rsLine(VIP.web, 'pod2'),
        `-A -t ${VIP.hairpin}:80 -s rr`,
        rsLine(VIP.hairpin, 'pod1'),
        rsLine(VIP.lc, 'pod2'),
        rsLine(VIP.drain, 'pod2'),
        `-a -u ${VIP.dns}:53 -r ${ADDR.pod2}:5353 -m -w 1`,
        `-a -t ${LB.denied}:80 -r ${ADDR.pod1}:8080 -m -w 1`,
      ]);
    },
    [
      [
        'ClusterIP from a Pod: both endpoints, including the Pod itself (hairpin through KUBE-LOOP-BACK)',
        async (lab) => {
          const got = count(await lab.requests('pod2', VIP.web, 80, 4));
          check(got.pod1 === 2 && got.pod2 === 2, `expected 2 × pod1 and 2 × pod2 from pod2, got ${JSON.stringify(got)}`);
          const self = await lab.request('pod1', VIP.hairpin, 80);
          check(self === 'pod1', `pod1 → its own Service should reach pod1, got ${self}`);
        },
      ],
      [
        'ClusterIP from the node and from outside it',
        async (lab) => {
          const fromNode = count(await lab.requests('node', VIP.web, 80, 2));
          check(fromNode.pod1 === 1 && fromNode.pod2 === 1, `from the node: ${JSON.stringify(fromNode)}`);
          const fromClient = count(await lab.requests('client', VIP.web, 80, 2));
          check(fromClient.pod1 === 1 && fromClient.pod2 === 1, `from the client: ${JSON.stringify(fromClient)}`);
        },
      ],
      [
        'NodePort from outside the node reaches both endpoints',
        async (lab) => {
          const table = await lab.ipvs();
          check(table.includes(`-A -t ${ADDR.node}:${NODEPORT} -s rr`), `no NodePort virtual service in:\n${table}`);
          const got = count(await lab.requests('client', ADDR.node, NODEPORT, 4));
          check(got.pod1 === 2 && got.pod2 === 2, `expected 2 × pod1 and 2 × pod2, got ${JSON.stringify(got)}`);
        },
      ],
      [
        'a Service without endpoints refuses connections at once',
        async (lab) => {
          for (const from of ['pod1', 'client'] as const) {
            // A drop would end in socat's connect-timeout ("Connection timed out").
            const r = await lab.request(from, VIP.empty, 80);
            check(/refused/i.test(r), `from ${from}: expected "Connection refused", got ${r}`);
          }
        },
      ],
      [
        'ClientIP affinity is IPVS persistence: every request of a client goes to one server',
        async (lab) => {
          const table = await lab.ipvs();
          check(table.includes(`-A -t ${VIP.sticky}:80 -s rr -p 10800`), `no persistent virtual service in:\n${table}`);
          const got = await lab.requests('client', VIP.sticky, 80, 4);
          check(new Set(got).size === 1 && got[0].startsWith('pod'), `expected one server, got ${got.join(', ')}`);
        },
      ],
      [
        'the kproxy.io/scheduler annotation picks the scheduler of a Service',
        async (lab) => {
          const table = await lab.ipvs();
          for (const [vip, sched] of [
            [VIP.rr, 'rr'],
            [VIP.sh, 'sh'],
            [VIP.lc, 'lc'],
          ]) {
            check(table.includes(`-A -t ${vip}:80 -s ${sched}\n`), `expected ${vip} with scheduler ${sched} in:\n${table}`);
          }
        },
      ],
      [
        'rr alternates exactly between the servers',
        async (lab) => {
          const got = await lab.requests('client', VIP.rr, 80, 6);
          check(
            got.every((g) => g === 'pod1' || g === 'pod2'),
            `bad replies: ${got.join(', ')}`,
          );
          check(
            got.every((g, i) => i === 0 || g !== got[i - 1]),
            `not alternating: ${got.join(', ')}`,
          );
        },
      ],
      [
        'sh keeps a client on one server',
        async (lab) => {
          for (const from of ['client', 'pod1'] as const) {
            const got = await lab.requests(from, VIP.sh, 80, 4);
            check(new Set(got).size === 1 && got[0].startsWith('pod'), `from ${from}: ${got.join(', ')}`);
          }
        },
      ],
      [
        'lc sends new connections to the idle server',
        async (lab) => {
          const busy = await lab.open('client', VIP.lc, 80);
          try {
            check(busy.server.startsWith('pod'), `the open connection got ${busy.server}`);
            const idle = busy.server === 'pod1' ? 'pod2' : 'pod1';
            const got = await lab.requests('client', VIP.lc, 80, 3);
            check(
              got.every((g) => g === idle),
              `expected all on ${idle} (${busy.server} has an open connection), got ${got.join(', ')}`,
            );
          } finally {
            busy.close();
          }
        },
      ],
      [
        'UDP: datagrams to a ClusterIP reach both endpoints',
        async (lab) => {
          const got = count((await Promise.all([0, 1, 2, 3].map(() => lab.datagram('client', VIP.dns, 53)))).map((l) => l.split(' ')[0]));
          check(got.pod1 === 2 && got.pod2 === 2, `expected 2 × pod1 and 2 × pod2, got ${JSON.stringify(got)}`);
        },
      ],
      [
        'externalIPs and LoadBalancer IPs reach the endpoints; loadBalancerSourceRanges drops other sources',
        async (lab) => {
          const ext = await lab.request('client', EXTERNAL_IP, 80);
          check(ext === 'pod1' || ext === 'pod2', `externalIP ${EXTERNAL_IP}: ${ext}`);
          const lb = await lab.request('client', LB.allowed, 80);
          check(lb === 'pod1' || lb === 'pod2', `LoadBalancer IP ${LB.allowed} (client in its source ranges): ${lb}`);
          const denied = await lab.request('client', LB.denied, 80, 3000);
          check(/timed out|no answer/.test(denied), `LoadBalancer IP ${LB.denied} (client not in its source ranges) should drop, got ${denied}`);
          const viaClusterIP = await lab.request('client', '10.96.0.41', 80);
          check(viaClusterIP === 'pod1', `the ClusterIP of that Service is not behind the source ranges: ${viaClusterIP}`);
        },
      ],
      [
        'a UDP endpoint removed is deleted at once and its conntrack entries are cleared',
        async (lab) => {
          const flows = async (pod: 'pod1' | 'pod2') => {
            const r = await lab.inNode(['sh', '-c', `conntrack -L -p udp --orig-dst ${VIP.dns} --reply-src ${ADDR[pod]} 2>/dev/null || true`]);
            return r.split('\n').filter((l) => l.includes('udp')).length;
          };
          for (let i = 0; i < 4; i++) await lab.datagram('client', VIP.dns, 53);
          check((await flows('pod1')) > 0, 'no conntrack entry to pod1 before its removal: the check below could not fail');
          lab.put('dns', [udpService('dns', VIP.dns), udpSlice('dns', ['pod2'])]);
          await lab.waitForIpvs([`-a -u ${VIP.dns}:53 -r ${ADDR.pod2}:5353 -m -w 1`], 90_000, [`-a -u ${VIP.dns}:53 -r ${ADDR.pod1}:5353 -m -w 0`, `-a -u ${VIP.dns}:53 -r ${ADDR.pod1}:5353 -m -w 1`]);
          // The entries go in the same sync, right after the table change.
          const end = Date.now() + 15_000;
          while ((await flows('pod1')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
          check((await flows('pod1')) === 0, `conntrack entries to the removed pod1 are still there (${await flows('pod1')})`);
          const got = (await Promise.all([0, 1, 2].map(() => lab.datagram('client', VIP.dns, 53)))).map((l) => l.split(' ')[0]);
          check(
            got.every((g) => g === 'pod2'),
            `after the removal every datagram should reach pod2, got ${got.join(', ')}`,
          );
        },
      ],
      [
        'the kernel table is saved for the host to compare with kproxy rules',
        async (lab) => {
          cpSync(lab.dir, join(OUT, 'a-manifests'), { recursive: true });
          // One shell for the three reads: process starts are what costs in the guest.
          await lab.inNode(['sh', '-c', `ipvsadm -S -n > ${OUT}/a-ipvsadm.txt && ipset save > ${OUT}/a-ipset.txt && iptables-save > ${OUT}/a-iptables.txt`]);
          // what the running kproxy publishes on /rules (kproxy trace --live reads it)
          const page = await lab.inNode(['curl', '-s', '-m', '20', 'http://127.0.0.1:10249/rules']);
          check(page.includes(`-A -t ${VIP.web}:80 -s rr\n`) && page.includes('KUBE-LOOP-BACK'), `/rules does not show the IPVS table and ipsets:\n${page.slice(0, 500)}`);
        },
      ],
      [
        'an endpoint removed while a connection is open keeps that connection and gets no new ones',
        async (lab) => {
          const conn = await lab.open('client', VIP.drain, 80);
          try {
            const gone = conn.server as 'pod1' | 'pod2';
            const stays = gone === 'pod1' ? 'pod2' : 'pod1';
            lab.put('slice', [slice('drain', [stays])]);
            await lab.waitForIpvs([rsLine(VIP.drain, gone, 0), rsLine(VIP.drain, stays, 1)]);
            const echo = await conn.echo('still-here');
            check(echo === 'still-here', `the open connection to ${gone} broke: got ${JSON.stringify(echo)}`);
            const got = await lab.requests('client', VIP.drain, 80, 3);
            check(
              got.every((g) => g === stays),
              `new connections should all go to ${stays}, got ${got.join(', ')}`,
            );
            check((await conn.echo('still-here-2')) === 'still-here-2', 'the open connection broke after new ones');
            // Its last connection ends (a RST: IPVS forgets it within seconds, no 2-minute
            // TIME_WAIT): the draining server is deleted by the drain check.
            await conn.reset();
            await lab.waitForIpvs([rsLine(VIP.drain, stays, 1)], 60_000, [rsLine(VIP.drain, gone, 0)]);
          } finally {
            conn.close();
          }
        },
      ],
    ],
  );
}

// The second group (IPVS_GROUP=restart; a guest of its own, for the runner's time limit per
// file): kproxy starts on a table that a previous kproxy left behind.
async function restartGroup(): Promise<void> {
  await group(
    'b',
    async (lab) => {
      lab.put('objects', [node(), service('rr', VIP.rr, { scheduler: 'rr' }), slice('rr', ['pod1', 'pod2']), service('drain', VIP.drain), slice('drain', ['pod1', 'pod2'])]);
      // While no kproxy runs: both ready pods at weight 0 and a server nobody wants, as a
      // crash in the middle of draining can leave them.
      await lab.inNode(['ipvsadm', '-A', '-t', `${VIP.drain}:80`, '-s', 'rr']);
      for (const rs of [`${ADDR.pod1}:8080 -m -w 0`, `${ADDR.pod2}:8080 -m -w 0`, '10.244.1.99:8080 -m -w 1']) {
        await lab.inNode(['ipvsadm', '-a', '-t', `${VIP.drain}:80`, '-r', ...rs.split(' ')]);
      }
      await lab.startKproxy(['--ipvs-scheduler', 'wrr', '--ipvs-strict-arp']);
      await lab.waitForIpvs([rsLine(VIP.drain, 'pod1'), rsLine(VIP.drain, 'pod2'), `-A -t ${VIP.rr}:80 -s rr`]);
    },
    [
      [
        'a restart of kproxy gives every ready server its weight back and removes stale ones',
        async (lab) => {
          // Set-up left the table as a previous kproxy might have (both ready pods at weight 0,
          // a server nobody wants) and started kproxy on it.
          const after = await lab.ipvs();
          check(!after.includes('10.244.1.99'), `the stale server is still there:\n${after}`);
          check(!after.includes(' -w 0'), `a server is still at weight 0:\n${after}`);
          const got = count(await lab.requests('client', VIP.drain, 80, 2));
          check(got.pod1 === 1 && got.pod2 === 1, `expected both pods after the restart, got ${JSON.stringify(got)}`);
        },
      ],
      [
        '--ipvs-scheduler sets the scheduler of Services without the annotation',
        async (lab) => {
          const table = await lab.ipvs();
          check(table.includes(`-A -t ${VIP.rr}:80 -s rr\n`), `the annotated Service lost its scheduler:\n${table}`);
          check(table.includes(`-A -t ${VIP.drain}:80 -s wrr\n`), `expected scheduler wrr in:\n${table}`);
        },
      ],
      [
        '--ipvs-strict-arp sets arp_ignore 1 and arp_announce 2',
        async (lab) => {
          const got = await lab.inNode(['cat', '/proc/sys/net/ipv4/conf/all/arp_ignore', '/proc/sys/net/ipv4/conf/all/arp_announce']);
          check(got.split('\n').slice(0, 2).join(' ') === '1 2', `arp_ignore and arp_announce: ${got}`);
        },
      ],
      [
        "kproxy cleanup removes kproxy's virtual services, kube-ipvs0, its chains and ipsets, and nothing else",
        async (lab) => {
          await lab.stopKproxy();
          // Someone else's virtual service and chain, which must stay.
          await lab.inNode(['ipvsadm', '-A', '-t', '10.1.2.3:80', '-s', 'wlc']);
          await lab.inNode(['iptables', '-t', 'nat', '-N', 'SOMEONE-ELSE']);
          const argv = ['netns', 'exec', lab.ns('node'), process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), 'cleanup'];
          const r = await run('ip', argv, undefined, 120_000);
          // (The nftables part fails in this guest, whose kernel has no nftables: not checked here.)
          check(/ipvs: deleted \d+ IPVS virtual services/.test(r.stdout) && /ipvs: deleted the interface kube-ipvs0/.test(r.stdout), `kproxy cleanup said:\n${r.stdout}${r.stderr}`);
          check((await lab.ipvs()) === '-A -t 10.1.2.3:80 -s wlc\n', `the IPVS table after cleanup:\n${await lab.ipvs()}`);
          const saved = await lab.inNode(['iptables-save']);
          check(!/KUBE-/.test(saved) && saved.includes(':SOMEONE-ELSE'), `iptables-save after cleanup:\n${saved}`);
          const sets = await lab.inNode(['ipset', 'list', '-n']);
          check(!/KUBE-|KPROXY-/.test(sets), `ipsets left: ${sets}`);
          const link = await run('ip', ['-n', lab.ns('node'), 'link', 'show', 'kube-ipvs0']);
          check(link.code !== 0, 'kube-ipvs0 is still there');
          // (That a second run finds nothing is a unit test: one more kproxy start costs half a minute here.)
        },
      ],
    ],
  );
}

if (process.env.IPVS_GROUP === 'restart') await restartGroup();
else await trafficGroup();

const failed = results.filter((r) => !r.ok).length;
process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
