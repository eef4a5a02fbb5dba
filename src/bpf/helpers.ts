// Helper function ids (enum bpf_func_id in include/uapi/linux/bpf.h) that kproxy's programs
// call. Which program type may call which helper is the verifier's business; probe.ts asks it.
export const HELPER = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  ktime_get_ns: 5,
  get_prandom_u32: 7,
  get_socket_cookie: 46,
  get_netns_cookie: 122,
  set_retval: 187,
} as const;
export type HelperName = keyof typeof HELPER;
