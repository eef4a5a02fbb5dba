// Standalone source: the manifests folder is the API server.
import type { Source, SourceContext } from '../source.js';
import { loadManifestsOnce } from './once.js';

export function manifestsSource(ctx: SourceContext): Source {
  return {
    async start() {
      loadManifestsOnce(ctx.config.manifests, ctx.tracker);
      ctx.changed();
    },
    async stop() {},
  };
}
