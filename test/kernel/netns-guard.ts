// Every process the kernel harness starts inside a namespace calls this first: it refuses to
// run unless /proc/self/ns/net is one of the harness's own network namespaces (listed in
// KPROXY_TEST_NETNS). Outside them its packets would leave through the host's default route.
// One guard for the tests and for `kproxy bench`, which lives in the package (src/bench/).
export { assertInTestNetns } from '../../src/bench/netns-guard.js';
