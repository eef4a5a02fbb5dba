// One writer of Service status in a cluster: leader election through a coordination.k8s.io
// Lease, as client-go's leaderelection does it (lease 15 s, renew every 2 s; a holder that
// stops renewing loses the Lease once it expires). Optimistic concurrency: every update
// carries the resourceVersion read, so two candidates can never both win.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../util/log.js';
import { APIError, requestJSON } from './request.js';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds?: number;
  retryMs?: number;
  onChange: (leader: boolean) => void;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
}

const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z'); // metav1.MicroTime: microseconds

export class LeaderElector {
  private timer: NodeJS.Timeout | null = null;
  private leader = false;
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: LeaderOptions,
    private readonly log: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    void this.tick();
  }

  /** Stops renewing; from now on this instance is not the leader (it writes nothing more). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leader) {
      this.leader = false;
      this.opts.onChange(false);
    }
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`;
  }

  private async tick(): Promise<void> {
    let leader = false;
    try {
      leader = await this.tryAcquireOrRenew();
    } catch (e) {
      this.log.warn({ err: (e as Error).message, lease: `${this.opts.namespace}/${this.opts.name}` }, 'LoadBalancer status leader election: cannot reach the Lease; not writing status meanwhile');
    }
    if (leader !== this.leader) {
      this.leader = leader;
      this.log.info(
        { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity },
        leader ? 'now the writer of LoadBalancer status' : 'no longer the writer of LoadBalancer status',
      );
      this.opts.onChange(leader);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.opts.retryMs ?? 2000);
      this.timer.unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const seconds = this.opts.leaseSeconds ?? 15;
    const now = new Date();
    let current: Lease | null = null;
    try {
      current = (await requestJSON(this.kc, 'GET', `${this.path}/${this.opts.name}`)) as Lease;
    } catch (e) {
      if (!(e instanceof APIError && e.statusCode === 404)) throw e;
    }
    const mine = { holderIdentity: this.opts.identity, leaseDurationSeconds: seconds, renewTime: microTime(now) };
    if (!current) {
      await requestJSON(this.kc, 'POST', this.path, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
      });
      return true;
    }
    const s = current.spec ?? {};
    const held = s.holderIdentity && s.holderIdentity !== this.opts.identity;
    const expires = s.renewTime ? Date.parse(s.renewTime) + (s.leaseDurationSeconds ?? seconds) * 1000 : 0;
    if (held && expires > now.getTime()) return false;
    const spec = held || !s.holderIdentity ? { ...s, ...mine, acquireTime: microTime(now), leaseTransitions: (s.leaseTransitions ?? 0) + 1 } : { ...s, ...mine };
    try {
      await requestJSON(this.kc, 'PUT', `${this.path}/${this.opts.name}`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: current.metadata, spec });
      return true;
    } catch (e) {
      if (e instanceof APIError && e.statusCode === 409) return false; // someone else updated it first
      throw e;
    }
  }
}
