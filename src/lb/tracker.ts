// The change tracker with LoadBalancer address management in front of it. Sources deliver
// objects as always; on their way to the model:
//  - IPAddressPools, L2Advertisements and kube-node-lease Leases go to the controller;
//  - every Node goes to the controller too (it needs all of them to elect announcers) and on
//    to the model (which keeps its own node);
//  - Services go to the controller; in standalone mode each reaches the model with the
//    addresses assigned to it as status.loadBalancer.ingress, so every dataplane, the DNS
//    and `kproxy services` see them like any cloud-assigned address.
// Assignment runs once per sync, right before the snapshot, on whatever arrived meanwhile.
import type { KubeObject } from '../api/types.js';
import { ChangeTracker, type ObjectKind, type TrackerOptions } from '../model/tracker.js';
import type { ProxyState } from '../model/types.js';
import type { ObjectError } from '../util/errors.js';
import type { Assignment } from './assign.js';
import { LB_KINDS, LoadBalancerController } from './controller.js';

export interface LoadBalancerTrackerOptions extends TrackerOptions {
  writesStatus: 'local' | 'api';
  held?: ReadonlyMap<string, Assignment>;
  /** Called after a pass whose assignments changed (standalone: persist them). */
  onAssigned?: (holdings: ReadonlyMap<string, Assignment>) => void;
}

export class LoadBalancerTracker extends ChangeTracker {
  readonly lb: LoadBalancerController;
  /** Something that can move an announcement changed (nodes, leases, pools, advertisements). */
  onAnnouncementInputs: () => void = () => {};
  private readonly reported = new Set<string>();

  constructor(private readonly lbOpts: LoadBalancerTrackerOptions) {
    super(lbOpts);
    this.lb = new LoadBalancerController({ writesStatus: lbOpts.writesStatus, held: lbOpts.held });
  }

  override upsert(o: KubeObject): ObjectError | null {
    if (typeof o.kind === 'string' && LB_KINDS.has(o.kind)) {
      const e = this.lb.setObject(o);
      this.onAnnouncementInputs();
      return e;
    }
    if (o.kind === 'Node') {
      this.lb.setNode(o);
      this.onAnnouncementInputs();
    } else if (o.kind === 'Service') {
      this.lb.setService(o);
      this.onAnnouncementInputs();
      if (this.lbOpts.writesStatus === 'local') return super.upsert(this.lb.withStatus(o));
    }
    return super.upsert(o);
  }

  override delete(kind: ObjectKind | 'IPAddressPool' | 'L2Advertisement' | 'Lease', namespace: string, name: string): void {
    if (LB_KINDS.has(kind)) {
      this.lb.deleteObject(kind, namespace, name);
      this.onAnnouncementInputs();
      return;
    }
    if (kind === 'Node') {
      this.lb.deleteNode(name);
      this.onAnnouncementInputs();
    } else if (kind === 'Service') {
      this.lb.setService(null, `${namespace}/${name}`);
    }
    super.delete(kind as ObjectKind, namespace, name);
  }

  override snapshot(): ProxyState {
    this.flushLoadBalancers();
    return super.snapshot();
  }

  /** Assigns, hands changed Services to the model, and mirrors the controller's errors. */
  private flushLoadBalancers(): void {
    const changed = this.lb.assign();
    if (this.lbOpts.writesStatus === 'local') {
      for (const id of changed) {
        const raw = this.lb.rawService(id);
        if (raw) super.upsert(this.lb.withStatus(raw, id));
      }
    }
    const now = new Set<string>();
    for (const e of this.lb.errors()) {
      const key = `${e.kind}/${e.namespace}/${e.name}`;
      now.add(key);
      this.reportError(e);
    }
    for (const key of this.reported) {
      if (now.has(key)) continue;
      const [kind, namespace, ...rest] = key.split('/');
      // A Service's own validation error is the tracker's, not ours: leave it alone.
      if (kind !== 'Service' || this.lb.isValidService(`${namespace}/${rest.join('/')}`)) this.clearError(kind, namespace, rest.join('/'));
    }
    this.reported.clear();
    for (const k of now) this.reported.add(k);
    if (changed.length > 0) this.lbOpts.onAssigned?.(this.lb.holdings());
  }
}
