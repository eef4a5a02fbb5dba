// The main thread's handle on the layer-2 worker: hand it the addresses this node announces,
// read back its counters (MetalLB's metallb_layer2_* metrics).
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../util/log.js';
import type { AddressCounters, FromWorker, OwnedAddress, ToWorker } from './protocol.js';

export class L2Responder {
  private worker: Worker | null = null;
  private table: OwnedAddress[] = [];
  private failed: string | null = null;
  counters: Record<string, AddressCounters> = {};
  /** Called after each gratuitous announcement (tests and logs). */
  onGratuitous: (ip: string, interfaces: string[]) => void = () => {};
  /** Called with the running totals per address (about twice a second while there is traffic). */
  onCounters: (totals: Record<string, AddressCounters>) => void = () => {};

  constructor(private readonly log: Logger) {}

  /**
   * Starts the worker; resolves once its sockets are open (or rejects with why they cannot be).
   * The worker has the addresses from its first moment: the table of the last setAddresses()
   * travels with it, and later ones follow as messages, which it reads before any frame.
   */
  start(): Promise<void> {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { addresses: this.table } });
    this.worker = w;
    return new Promise((resolve, reject) => {
      w.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            resolve();
            break;
          case 'error':
            this.failed = m.message;
            reject(new Error(m.message));
            break;
          case 'counters':
            this.counters = m.counters;
            this.onCounters(m.counters);
            break;
          case 'gratuitous':
            this.log.info({ ip: m.ip, interfaces: m.interfaces }, 'gratuitous announcement sent');
            this.onGratuitous(m.ip, m.interfaces);
            break;
        }
      });
      w.on('error', (e) => {
        this.failed = e.message;
        this.log.error({ err: e.message }, 'layer-2 responder stopped');
        reject(e);
      });
    });
  }

  /** The addresses this node answers for from now on (newly owned ones are announced). */
  setAddresses(addresses: OwnedAddress[]): void {
    this.table = addresses;
    this.send({ type: 'table', addresses });
  }

  get error(): string | null {
    return this.failed;
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const exited = new Promise((r) => w.once('exit', r));
    this.send({ type: 'stop' }, w);
    const timer = setTimeout(() => void w.terminate(), 1000);
    await exited;
    clearTimeout(timer);
  }

  private send(m: ToWorker, w = this.worker): void {
    w?.postMessage(m);
  }
}
