// The text log format: each pino JSON line becomes
//   2026-01-02T03:04:05.678Z INFO  kproxy running  mode=nftables node=node-a
// (time, level, message, then the other fields as key=value; strings with spaces quoted).
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);

export function formatTextLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : line + '\n';
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString() : '';
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `${time} ${LEVELS[o.level as number] ?? String(o.level)} ${o.msg ?? ''}${fields ? '  ' + fields : ''}\n`;
}

function value(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { message?: unknown }).message === 'string') return quote((v as { message: string }).message);
  if (typeof v === 'string') return quote(v);
  return JSON.stringify(v);
}

function quote(s: string): string {
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** A pino destination that writes the text format to `out`. */
export function textDestination(out: NodeJS.WritableStream): { write(line: string): boolean } {
  return { write: (line: string) => out.write(formatTextLine(line)) };
}
