// The idle timeout of a DNS TCP connection counts from the last complete query, not from the
// last byte: a socket timeout is reset by any byte, so a client dripping one byte a second
// would hold its connection (and one of the server's connection slots) forever.
import type { Socket } from 'node:net';

export const DNS_TCP_IDLE_MS = 10_000;

/** Ends s when no complete query arrives for ms; call progressed() on each complete query. */
export function queryDeadline(s: Socket, ms: number = DNS_TCP_IDLE_MS): { progressed(): void } {
  let timer: NodeJS.Timeout;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => s.destroy(), ms);
    timer.unref();
  };
  arm();
  s.once('close', () => clearTimeout(timer));
  return { progressed: arm };
}
