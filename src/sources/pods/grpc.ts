// gRPC readiness probes: grpc.health.v1.Health/Check over plaintext HTTP/2, as the kubelet
// makes them; SERVING is success, anything else (or an error, or the deadline) is failure.
// The two tiny protobuf messages are encoded by hand rather than loading a .proto file:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  // SERVING = 1
// The call is made over node:http2 so that kproxy owns the connection and closes it.
import http2 from 'node:http2';
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

/** gRPC status codes by number, for the failure detail. */
const CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/**
 * One Health/Check call on its own HTTP/2 connection, which is destroyed when the call ends,
 * whatever ends it: the answer, an error or the deadline. (A gRPC client library keeps a
 * connection that never got the server's HTTP/2 SETTINGS open after its channel is closed:
 * one socket per probe of a port that accepts TCP but never speaks HTTP/2.)
 */
export function grpcHealthCheck(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    let session: http2.ClientHttp2Session | null = null;
    let done = false;
    const finish = (success: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      session?.destroy();
      resolve({ success, detail });
    };
    const deadline = setTimeout(() => finish(false, `gRPC: DEADLINE_EXCEEDED after ${timeoutMs} ms`), timeoutMs);
    try {
      session = http2.connect(`http://${joinHostPort(host, port)}`);
    } catch (e) {
      return finish(false, `gRPC: ${(e as Error).message}`);
    }
    session.on('error', (e) => finish(false, `gRPC: ${e.message}`));
    session.on('close', () => finish(false, 'gRPC: connection closed'));
    const body = encodeHealthCheckRequest(service);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1); // byte 0: not compressed
    body.copy(frame, 5);
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'kube-probe/1.33',
      'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
    });
    req.on('error', (e) => finish(false, `gRPC: ${e.message}`));
    const chunks: Buffer[] = [];
    let size = 0;
    let httpStatus = 0;
    req.on('response', (headers) => {
      httpStatus = Number(headers[':status']);
      if (headers['grpc-status'] !== undefined) onStatus(headers); // trailers-only answer
    });
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > 64 * 1024) return finish(false, 'gRPC: answer larger than 64 KiB');
      chunks.push(d);
    });
    req.on('trailers', onStatus);
    req.on('end', () => finish(false, `gRPC: no grpc-status in the answer (HTTP ${httpStatus})`));
    function onStatus(h: http2.IncomingHttpHeaders): void {
      const code = Number(h['grpc-status']);
      if (httpStatus !== 200) return finish(false, `gRPC: HTTP status ${httpStatus}`);
      if (code !== 0) {
        const message = decodeURIComponent(String(h['grpc-message'] ?? ''));
        return finish(false, `gRPC: ${code} ${CODES[code] ?? 'UNKNOWN'}${message ? `: ${message}` : ''}`);
      }
      const all = Buffer.concat(chunks);
      if (all.length < 5 || all[0] !== 0 || all.length < 5 + all.readUInt32BE(1)) return finish(false, 'gRPC: malformed HealthCheckResponse frame');
      let status: number;
      try {
        status = decodeHealthCheckResponse(all.subarray(5, 5 + all.readUInt32BE(1)));
      } catch (e) {
        return finish(false, `gRPC: ${(e as Error).message}`);
      }
      finish(status === SERVING, `gRPC health status ${STATUS_NAMES[status] ?? status}`);
    }
    req.end(frame);
  });
}

/** The gRPC probe (kept async: the Prober loads it on first use). */
export async function loadGrpcProbe(_log?: Logger): Promise<GrpcProbe | null> {
  return grpcHealthCheck;
}
