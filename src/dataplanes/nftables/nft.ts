// Runs `nft -f FILE`: one transaction, all or nothing. The text is written to a file first,
// never streamed to nft's stdin: if kproxy died half-way through a stream, nft would see the
// end of its input, take the half it had for the whole, and commit it (a table with chains
// but empty maps drops every ClusterIP). A file that is not complete is never handed over.
// The file lives in a directory only kproxy can enter (mkdtemp, mode 0700), under a name
// opened with O_EXCL. nft gets a deadline that grows with the file (timeout.ts; util/exec.ts
// kills it after the deadline). A failure
// carries nft's own message (which names FILE:line:col) and the offending line.
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execWithTimeout } from '../../util/exec.js';
import { textOf } from '../../util/byte-text.js';
import { nftTimeoutMs } from './timeout.js';

export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftError';
  }
}

/**
 * nft input: the whole text, or chunks written out as they come (the full sync gives its
 * text as UTF-8 bytes built outside the JavaScript heap; see util/byte-text.ts).
 */
export type NftInput = string | AsyncIterable<string | Uint8Array>;
/** Runs one transaction; the input's Buffers may be reused once the promise settles. */
export type NftRunner = (input: NftInput) => Promise<void>;

/** The whole text of an input (for runners that need it at once). */
export async function collectText(input: NftInput): Promise<string> {
  if (typeof input === 'string') return input;
  const parts: (string | Uint8Array)[] = [];
  for await (const chunk of input) parts.push(chunk);
  return textOf(parts);
}

/** timeoutMs: a fixed deadline (tests); without it, the deadline scales with the file. */
export function nftRunner(binary = 'nft', timeoutMs?: number): NftRunner {
  return (text) => runNft(text, binary, timeoutMs);
}

let workDir: string | null = null;
let serial = 0;

function transactionPath(): string {
  if (!workDir) {
    workDir = mkdtempSync(join(tmpdir(), 'kproxy-nft-'));
    process.once('exit', () => rmSync(workDir!, { recursive: true, force: true }));
  }
  return join(workDir, `transaction-${process.pid}-${++serial}.nft`);
}

export async function runNft(input: NftInput, binary = 'nft', timeoutMs?: number): Promise<void> {
  const path = transactionPath();
  const file = await open(path, 'wx', 0o600);
  const parts: (string | Uint8Array)[] = []; // kept only to quote the line nft points at
  let bytes = 0;
  try {
    try {
      if (typeof input === 'string') {
        parts.push(input);
        bytes += Buffer.byteLength(input);
        await file.writeFile(input);
      } else {
        for await (const chunk of input) {
          parts.push(chunk);
          const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
          bytes += size;
          // A short write (a full disk) must not leave a shorter, still valid, script.
          const { bytesWritten } = typeof chunk === 'string' ? await file.write(chunk) : await file.write(chunk, 0, size);
          if (bytesWritten !== size) throw new NftError(`writing the nft script: ${bytesWritten} of ${size} bytes written`, '');
        }
      }
    } finally {
      await file.close();
    }
    let r;
    try {
      r = await execWithTimeout(binary, ['-f', path], { timeoutMs: timeoutMs ?? nftTimeoutMs(bytes), maxOutputBytes: 64 * 1024 });
    } catch (e) {
      throw new NftError((e as Error).message, '');
    }
    if (r.code !== 0) throw new NftError(`${binary} -f failed (exit ${r.code ?? r.signal}): ${describe(r.stderr, path, textOf(parts))}`, r.stderr);
  } finally {
    rmSync(path, { force: true });
  }
}

/** nft's first error, plus the input line it points at. */
function describe(stderr: string, path: string, text: string): string {
  const first = stderr.split('\n').find((l) => l.includes('Error')) ?? stderr.trim().split('\n')[0] ?? '';
  const at = first.indexOf(`${path}:`);
  const m = at < 0 ? null : /^(\d+):/.exec(first.slice(at + path.length + 1));
  if (!m) return first;
  const line = text.split('\n', Number(m[1]))[Number(m[1]) - 1] ?? '';
  return `${first.trim().replace(path, 'ruleset')} [line ${m[1]}: ${line.length > 300 ? line.slice(0, 300) + '…' : line}]`;
}
