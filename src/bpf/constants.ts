// bpf(2) commands, program, map and attach types (include/uapi/linux/bpf.h).
export const CMD = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  OBJ_GET_INFO_BY_FD: 15,
  PROG_QUERY: 16,
  MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27,
} as const;

export const MAP_TYPE = { HASH: 1, ARRAY: 2, LRU_HASH: 9 } as const;
export type MapType = keyof typeof MAP_TYPE;

export const PROG_TYPE = { CGROUP_SOCK_ADDR: 18 } as const;

export const ATTACH_TYPE = {
  CGROUP_INET4_CONNECT: 10,
  CGROUP_INET6_CONNECT: 11,
  CGROUP_UDP4_SENDMSG: 14,
  CGROUP_UDP6_SENDMSG: 15,
  CGROUP_UDP4_RECVMSG: 19,
  CGROUP_UDP6_RECVMSG: 20,
  CGROUP_INET4_GETPEERNAME: 29,
  CGROUP_INET6_GETPEERNAME: 30,
} as const;
export type AttachType = keyof typeof ATTACH_TYPE;

/** Map update flags. */
export const UPDATE = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;

/** struct bpf_sock_addr field offsets (the context of CGROUP_SOCK_ADDR programs). */
export const SOCK_ADDR = {
  user_family: 0,
  user_ip4: 4,
  user_ip6: 8,
  user_port: 24,
  family: 28,
  type: 32,
  protocol: 36,
} as const;

export const ERRNO = { EPERM: 1, ENOENT: 2, EINTR: 4, E2BIG: 7, EBADF: 9, EAGAIN: 11, EACCES: 13, EEXIST: 17, EINVAL: 22, ENOSPC: 28, ENOSYS: 38, ECONNREFUSED: 111, ENOTSUPP: 524 } as const;
