// gRPC readiness probes: grpc.health.v1.Health/Check over plaintext HTTP/2, as the kubelet
// makes them; SERVING is success, anything else (or an error, or the deadline) is failure.
// The two tiny protobuf messages are encoded by hand rather than loading a .proto file:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  // SERVING = 1
// @grpc/grpc-js is loaded only when some Pod has a gRPC probe.
import type { Logger } from '../../util/log.js';
import type { ProbeOutcome } from './probe.js';
import type { GrpcProbe } from './prober.js';
import { joinHostPort } from '../../api/ip.js';

const SERVING = 1;
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

export function encodeHealthCheckRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  return s.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]);
}

/** Reads field 1 (status) of a HealthCheckResponse, skipping any other field. */
export function decodeHealthCheckResponse(b: Buffer): number {
  let i = 0;
  let status = 0;
  const readVarint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= b.length) throw new Error('truncated HealthCheckResponse');
      const byte = b[i++];
      v += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return v;
      shift += 7;
    }
  };
  while (i < b.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (field === 1) status = v;
    } else if (wire === 2) i += readVarint();
    else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new Error(`unexpected wire type ${wire} in HealthCheckResponse`);
  }
  return status;
}

export async function loadGrpcProbe(log?: Logger): Promise<GrpcProbe | null> {
  let grpc: typeof import('@grpc/grpc-js');
  try {
    grpc = await import('@grpc/grpc-js');
  } catch (e) {
    log?.warn({ err: (e as Error).message }, 'gRPC probes unavailable: @grpc/grpc-js cannot be loaded');
    return null;
  }
  return (host: string, port: number, service: string, timeoutMs: number) =>
    new Promise<ProbeOutcome>((resolve) => {
      const target = joinHostPort(host, port);
      const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
        'grpc.primary_user_agent': 'kube-probe/1.33',
        'grpc.enable_retries': 0,
      });
      const metadata = new grpc.Metadata();
      client.makeUnaryRequest<Buffer, number>(
        '/grpc.health.v1.Health/Check',
        (arg) => arg,
        decodeHealthCheckResponse,
        encodeHealthCheckRequest(service),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err, status) => {
          client.close();
          if (err) return resolve({ success: false, detail: `gRPC: ${err.message}` });
          resolve({ success: status === SERVING, detail: `gRPC health status ${STATUS_NAMES[status ?? 0] ?? status}` });
        },
      );
    });
}
