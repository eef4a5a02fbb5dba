// The ipvs kernel suite, run inside the user-mode-Linux guest by test/kernel/ipvs.test.ts.
// `kproxy run --proxy-mode ipvs` programs a real IPVS kernel in each lab's node namespace,
// and real TCP clients (socat) check where their connections land. Each result goes to
// /run/out/results.json (the guest's one writable host folder), which the host test reads.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, Lab, OUT } from './lab.js';
import { node, service, slice } from './objects.js';

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
    await setUp(lab);
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

const VIP = { web: '10.96.0.10', sticky: '10.96.0.12', empty: '10.96.0.16', hairpin: '10.96.0.17', rr: '10.96.0.20', sh: '10.96.0.21', lc: '10.96.0.22', drain: '10.96.0.30' };
const NODEPORT = 30080;
const rs = (pod: 'pod1' | 'pod2', w = 1) => `-m -w ${w}`.replace(/^/, `-r ${ADDR[pod]}:8080 `);
const rsLine = (vip: string, pod: 'pod1' | 'pod2', w = 1) => `-a -t ${vip}:80 ${rs(pod, w)}`;

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
    ]);
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
      'the kernel table is saved for the host to compare with kproxy rules',
      async (lab) => {
        cpSync(lab.dir, join(OUT, 'a-manifests'), { recursive: true });
        writeFileSync(join(OUT, 'a-ipvsadm.txt'), await lab.ipvs());
        writeFileSync(join(OUT, 'a-ipset.txt'), await lab.inNode(['ipset', 'save']));
        writeFileSync(join(OUT, 'a-iptables.txt'), await lab.inNode(['iptables-save']));
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
        } finally {
          conn.close();
        }
      },
    ],
    [
      'a restart of kproxy gives every ready server its weight back and removes stale ones',
      async (lab) => {
        await lab.stopKproxy();
        // While kproxy is down: the drained pod is ready again, and a server nobody wants
        // was left in the table (as after a crash).
        lab.put('slice', [slice('drain', ['pod1', 'pod2'])]);
        await lab.inNode(['ipvsadm', '-a', '-t', `${VIP.drain}:80`, '-r', '10.244.1.99:8080', '-m', '-w', '1']);
        await lab.inNode(['ipvsadm', '-e', '-t', `${VIP.drain}:80`, '-r', `${ADDR.pod1}:8080`, '-m', '-w', '0']);
        await lab
          .inNode(['ipvsadm', '-a', '-t', `${VIP.drain}:80`, '-r', `${ADDR.pod2}:8080`, '-m', '-w', '0'])
          .catch(() => lab.inNode(['ipvsadm', '-e', '-t', `${VIP.drain}:80`, '-r', `${ADDR.pod2}:8080`, '-m', '-w', '0']));
        const before = await lab.ipvs();
        check(before.includes(`-r ${ADDR.pod1}:8080 -m -w 0`) && before.includes(`-r ${ADDR.pod2}:8080 -m -w 0`), `expected both pods at weight 0 before the restart:\n${before}`);
        await lab.startKproxy(['--ipvs-scheduler', 'wrr']);
        await lab.waitForIpvs([rsLine(VIP.drain, 'pod1'), rsLine(VIP.drain, 'pod2')]);
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
        // kproxy runs with --ipvs-scheduler wrr since the restart case
        const table = await lab.ipvs();
        check(table.includes(`-A -t ${VIP.rr}:80 -s rr\n`), `the annotated Service lost its scheduler:\n${table}`);
        check(table.includes(`-A -t ${VIP.drain}:80 -s wrr\n`), `expected scheduler wrr in:\n${table}`);
      },
    ],
  ],
);

const failed = results.filter((r) => !r.ok).length;
process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
