// The userspace mode's entry point for the dataplane registry.
import type { DataplaneContext } from '../dataplane.js';
import { UserspaceDataplane } from './dataplane.js';

export async function createUserspaceDataplane(ctx: DataplaneContext): Promise<UserspaceDataplane> {
  return new UserspaceDataplane(ctx);
}
