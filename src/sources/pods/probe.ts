// One probe attempt, as the kubelet makes it. Cheap on purpose: thousands run every second.
//  - httpGet: a fresh connection (no keep-alive, as the kubelet), one GET, and only the
//    status line is read: 200-399 is success. HTTPS accepts any certificate, as the kubelet
//    does. Redirects are not followed: a 3xx is itself a success.
//  - tcpSocket: success when the connection is established.
//  - grpc: grpc.health.v1.Health/Check must answer SERVING (see grpc.ts).
// Every attempt has a hard deadline (timeoutSeconds) however the target behaves.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { joinHostPort } from '../../api/ip.js';

export interface ProbeOutcome {
  success: boolean;
  /** Why it failed (or a note on success), for logs. */
  detail: string;
}

export interface HttpTarget {
  scheme: 'HTTP' | 'HTTPS';
  host: string;
  port: number;
  path: string;
  headers: readonly (readonly [string, string])[];
}

const USER_AGENT = 'kube-probe/1.33';

/** Runs fn with a socket and a deadline; resolves exactly once. */
function attempt(timeoutMs: number, open: () => Socket, onConnect: (s: Socket, done: (o: ProbeOutcome) => void) => void, connectEvent: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let finished = false;
    let socket: Socket | null = null;
    const done = (o: ProbeOutcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(o);
    };
    // Node runs expired timers before it reads sockets: when the event loop is late (a burst
    // of probes, a busy machine), an answer that arrived in time may still be unread when the
    // deadline fires. setImmediate runs after this turn's I/O, so such an answer counts.
    const timer = setTimeout(() => setImmediate(() => done({ success: false, detail: `timed out after ${timeoutMs} ms` })), timeoutMs);
    try {
      socket = open();
    } catch (e) {
      done({ success: false, detail: (e as Error).message });
      return;
    }
    socket.once('error', (e) => done({ success: false, detail: e.message }));
    socket.once(connectEvent, () => onConnect(socket!, done));
  });
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return attempt(
    timeoutMs,
    () => netConnect({ host, port }),
    (_s, done) => done({ success: true, detail: 'connected' }),
    'connect',
  );
}

/** The request bytes of an httpGet probe: built once per target, sent on every attempt. */
export function httpRequest(t: HttpTarget): Buffer {
  const has = (h: string) => t.headers.some(([n]) => n.toLowerCase() === h);
  let req = `GET ${t.path} HTTP/1.1\r\n`;
  if (!has('host')) req += `Host: ${joinHostPort(t.host, t.port)}\r\n`;
  if (!has('user-agent')) req += `User-Agent: ${USER_AGENT}\r\n`;
  if (!has('accept')) req += 'Accept: */*\r\n';
  for (const [n, v] of t.headers) req += `${n}: ${v}\r\n`;
  req += 'Connection: close\r\n\r\n';
  return Buffer.from(req, 'latin1');
}

const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |\r|$)/;

export function httpProbe(t: HttpTarget, timeoutMs: number, request: Buffer = httpRequest(t)): Promise<ProbeOutcome> {
  const tls = t.scheme === 'HTTPS';
  const open = () => (tls ? tlsConnect({ host: t.host, port: t.port, rejectUnauthorized: false, servername: isIP(t.host) ? undefined : t.host }) : netConnect({ host: t.host, port: t.port }));
  return attempt(
    timeoutMs,
    open,
    (s, done) => {
      let head: Buffer | null = null;
      s.on('data', (chunk: Buffer) => {
        head = head ? Buffer.concat([head, chunk]) : chunk;
        const eol = head.indexOf(10);
        if (eol < 0) {
          if (head.length > 4096) done({ success: false, detail: 'no HTTP status line in the first 4 KiB' });
          return;
        }
        const line = head.toString('latin1', 0, eol);
        const m = STATUS_LINE.exec(line);
        if (!m) return done({ success: false, detail: `not an HTTP response: ${JSON.stringify(line.slice(0, 80))}` });
        const code = Number(m[1]);
        done({ success: code >= 200 && code < 400, detail: `HTTP ${code}` });
      });
      s.once('end', () => done({ success: false, detail: 'connection closed before a status line' }));
      s.write(request);
    },
    tls ? 'secureConnect' : 'connect',
  );
}
