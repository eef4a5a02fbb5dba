// The IPVS table as kproxy describes it: virtual services and their real servers, keyed the
// way ipvsadm prints them. Always masquerading forwarding (-m), as kube-proxy's IPVS mode.
import { joinHostPort } from '../../api/ip.js';

/** The dummy interface kproxy owns, which holds the service addresses. */
export const DUMMY_INTERFACE = 'kube-ipvs0';

export type IpvsProtocol = 'tcp' | 'udp' | 'sctp';

export interface RealServer {
  address: string;
  port: number;
  weight: number;
}

export interface VirtualService {
  protocol: IpvsProtocol;
  address: string;
  port: number;
  scheduler: string;
  /** ClientIP affinity: persistence timeout in seconds; 0 = none. */
  persistenceSeconds: number;
  realServers: RealServer[];
}

/** Read back from the kernel: real servers with their connection counts. */
export interface KernelRealServer extends RealServer {
  activeConns: number;
  inactiveConns: number;
}

export interface KernelVirtualService extends Omit<VirtualService, 'realServers'> {
  realServers: KernelRealServer[];
}

export const PROTOCOL_FLAG: Record<IpvsProtocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };

/** "tcp 10.96.0.10:80": the identity of a virtual service. */
export function serviceId(vs: Pick<VirtualService, 'protocol' | 'address' | 'port'>): string {
  return `${vs.protocol} ${joinHostPort(vs.address, vs.port)}`;
}

export function realServerId(rs: Pick<RealServer, 'address' | 'port'>): string {
  return joinHostPort(rs.address, rs.port);
}
