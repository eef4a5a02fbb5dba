// Which service port owns each element of the global sets and maps, so that a partial sync
// can add and delete exactly the elements whose effective value changed. When several
// owners claim one key, the first in render order (global, then by service port key) wins,
// exactly as a full render decides.
import type { ElementRef } from './ruleset.js';

/** Owner of the global elements (sorts before every service port key). */
export const GLOBAL_OWNER = '';

interface Claim {
  owner: string;
  value: string;
}

export class ElementIndex {
  private readonly claims = new Map<string, Claim[]>();

  static id(e: Pick<ElementRef, 'set' | 'key'>): string {
    return `${e.set}\u0000${e.key}`;
  }

  static split(id: string): { set: string; key: string } {
    const i = id.indexOf('\u0000');
    return { set: id.slice(0, i), key: id.slice(i + 1) };
  }

  effective(id: string): string | undefined {
    return this.claims.get(id)?.[0]?.value;
  }

  add(owner: string, e: ElementRef): void {
    const id = ElementIndex.id(e);
    let list = this.claims.get(id);
    if (!list) this.claims.set(id, (list = []));
    let i = list.length;
    while (i > 0 && list[i - 1].owner > owner) i--;
    list.splice(i, 0, { owner, value: e.value });
  }

  remove(owner: string, e: ElementRef): void {
    const id = ElementIndex.id(e);
    const list = this.claims.get(id);
    if (!list) return;
    const i = list.findIndex((c) => c.owner === owner && c.value === e.value);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.claims.delete(id);
  }
}
