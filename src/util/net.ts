import type { Server } from 'node:net';

/** Splits "ip:port" / "[ip6]:port" into host and port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]*):(\d+)$/.exec(address);
  if (!m) throw new Error(`expected IP:PORT, got "${address}"`);
  return { host: m[1] || '0.0.0.0', port: Number(m[2]) };
}

/** Listens on "ip:port"; resolves once bound, rejects on error (address in use, ...). */
export function listen(server: Server, address: string): Promise<void> {
  const { host, port } = splitHostPort(address);
  return listenOn(server, host, port);
}

/** Listens on host and port; resolves once bound, rejects on error (address in use, ...). */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
