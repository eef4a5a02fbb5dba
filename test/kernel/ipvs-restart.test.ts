// The ipvs kernel suite, restart group (see ipvs.test.ts): kproxy starting on a table that a
// previous kproxy left behind, the scheduler and strict-ARP flags, and `kproxy cleanup`.
import { runGuestGroup } from './ipvs/host.js';

await runGuestGroup('restart', [
  'a restart of kproxy gives every ready server its weight back and removes stale ones',
  '--ipvs-scheduler sets the scheduler of Services without the annotation',
  '--ipvs-strict-arp sets arp_ignore 1 and arp_announce 2',
  "kproxy cleanup removes kproxy's virtual services, kube-ipvs0, its chains and ipsets, and nothing else",
]);
