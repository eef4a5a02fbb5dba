// "Would writing this slice change anything?" for the EndpointSlice controller, on the
// model's validated form. Hand-written: it runs for every slice of every recomputed Service.
// The trigger time is left out: it says when a slice was written, not what it holds.
import type { EndpointSlice, SliceEndpoint, SlicePort } from '../../api/types.js';

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k] || !Object.prototype.hasOwnProperty.call(b, k)) return false;
  return true;
}

function samePort(a: SlicePort, b: SlicePort): boolean {
  return a.name === b.name && a.protocol === b.protocol && a.port === b.port && a.appProtocol === b.appProtocol;
}

function sameEndpoint(a: SliceEndpoint, b: SliceEndpoint): boolean {
  return (
    sameStrings(a.addresses, b.addresses) &&
    a.conditions.ready === b.conditions.ready &&
    a.conditions.serving === b.conditions.serving &&
    a.conditions.terminating === b.conditions.terminating &&
    a.hostname === b.hostname &&
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    sameStrings(a.zoneHints, b.zoneHints) &&
    sameStrings(a.nodeHints, b.nodeHints)
  );
}

export function sameEndpointSlice(a: EndpointSlice, b: EndpointSlice): boolean {
  if (a.name !== b.name || a.namespace !== b.namespace || a.serviceName !== b.serviceName || a.addressType !== b.addressType) return false;
  if (a.ports.length !== b.ports.length || a.endpoints.length !== b.endpoints.length) return false;
  for (let i = 0; i < a.ports.length; i++) if (!samePort(a.ports[i], b.ports[i])) return false;
  for (let i = 0; i < a.endpoints.length; i++) if (!sameEndpoint(a.endpoints[i], b.endpoints[i])) return false;
  return sameLabels(a.labels, b.labels);
}
