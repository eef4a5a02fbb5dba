// The parts of @kubernetes/client-node the kube source uses (KubeConfig for kubeconfig
// loading and authentication, Watch and ListWatch), from the bundle `npm run build` makes of
// just those (dist/vendor/client-node.js, scripts/bundle.js): importing the whole package
// costs ~0.9 s of CPU at start (its generated API), the bundle ~0.17 s. A build without the
// bundle (tsc alone) loads the package itself.
import { existsSync } from 'node:fs';
import type * as ClientNode from '@kubernetes/client-node';

type Needed = Pick<typeof ClientNode, 'KubeConfig' | 'Watch' | 'ListWatch'>;

const bundle = new URL('../../../vendor/client-node.js', import.meta.url); // dist/src/sources/kube -> dist/vendor

/** Where the classes came from (tests check that a built tree uses the bundle). */
export const clientNodeOrigin: 'bundle' | 'package' = existsSync(bundle) ? 'bundle' : 'package';

const m: Needed = clientNodeOrigin === 'bundle' ? await import(bundle.href) : await import('@kubernetes/client-node');

export const KubeConfig = m.KubeConfig;
export type KubeConfig = ClientNode.KubeConfig;
export const Watch = m.Watch;
export type Watch = ClientNode.Watch;
export const ListWatch = m.ListWatch;
export type ListWatch<T extends ClientNode.KubernetesObject> = ClientNode.ListWatch<T>;
