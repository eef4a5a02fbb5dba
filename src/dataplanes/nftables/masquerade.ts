// Masquerading as kube-proxy does it: rules that want SNAT set a bit of the packet mark
// (mark-for-masquerade); nat postrouting clears it and masquerades. Hairpin traffic (a pod
// reaching itself through a Service) is found in postrouting too, by the pair
// "source . destination" of a DNATed connection being "endpoint . same endpoint" — that
// replaces upstream's per-endpoint hairpin rule, which needed one chain per endpoint.

export const MARK_FOR_MASQUERADE = 'mark-for-masquerade';
export const MASQUERADING = 'masquerading';
export const HAIRPIN_SET = 'hairpin';

export function masqueradeMark(bit: number): string {
  return '0x' + (2 ** bit).toString(16).padStart(8, '0');
}

/** Rules of the mark-for-masquerade chain. */
export function markForMasqueradeRules(bit: number): string[] {
  return [`meta mark set meta mark or ${masqueradeMark(bit)}`];
}

/** Rules of the masquerading chain (nat postrouting jumps here). */
export function masqueradingRules(bit: number, ipx: 'ip' | 'ip6'): string[] {
  const mark = masqueradeMark(bit);
  return [
    `ct status dnat ${ipx} saddr . ${ipx} daddr @${HAIRPIN_SET} jump ${MARK_FOR_MASQUERADE}`,
    `meta mark & ${mark} == 0 return`,
    `meta mark set meta mark xor ${mark}`,
    `masquerade fully-random`,
  ];
}
