// The address to connect to for a bind address ("0.0.0.0:10249" is dialled on 127.0.0.1).
export function dialable(bind: string): string {
  const m = /^(.*):(\d+)$/.exec(bind);
  if (!m) return bind;
  const h = m[1].replace(/^\[|\]$/g, '');
  const hostPart = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h;
  return `${hostPart}:${m[2]}`;
}
