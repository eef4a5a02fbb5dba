// A demo backend: a tiny HTTP server standing in for one Pod's container. It answers with
// its Pod's name, passes or fails its readiness probe on demand, and can stop listening for
// a while, so that a user can watch kproxy move traffic away from it.
import http from 'node:http';

export class DemoBackend {
  private server: http.Server | null = null;
  private ready = true;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly pod: string,
    readonly ip: string,
    readonly port: number,
  ) {}

  get address(): string {
    return `${this.ip}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.ip, () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const s = this.server;
    this.server = null;
    if (!s) return;
    // Stop accepting first, then end the open connections: the other order lets a connection
    // accepted in between live on after the "stop".
    const closed = new Promise((r) => s.close(r));
    s.closeAllConnections();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (code: number, text: string) => {
      res.writeHead(code, { 'content-type': 'text/plain' });
      res.end(text + '\n');
    };
    switch (url.pathname) {
      case '/healthz':
        return reply(this.ready ? 200 : 503, this.ready ? 'ok' : 'not ready');
      case '/unready':
        this.ready = false;
        return reply(200, `${this.pod} now fails its readiness probe`);
      case '/ready':
        this.ready = true;
        return reply(200, `${this.pod} passes its readiness probe again`);
      case '/stop': {
        const secs = Math.max(1, Math.min(600, Number(url.searchParams.get('for') ?? 30) || 30));
        reply(200, `${this.pod} stops listening for ${secs} s`);
        res.on('finish', () => {
          void this.stop().then(() => {
            this.restartTimer = setTimeout(() => void this.start().catch(() => {}), secs * 1000);
          });
        });
        return;
      }
      default:
        return reply(200, `hello from ${this.pod} (${this.address}), you are ${req.socket.remoteAddress}`);
    }
  }
}
