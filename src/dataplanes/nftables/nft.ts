// Runs `nft -f -`: the ruleset goes to stdin, one transaction, all or nothing. A failure
// carries nft's own message (which names /dev/stdin:line:col) and the offending line.
import { spawn } from 'node:child_process';

export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftError';
  }
}

/** nft input: the whole text, or chunks that nft starts parsing while the rest is built. */
export type NftInput = string | AsyncIterable<string>;
export type NftRunner = (input: NftInput) => Promise<void>;

/** The whole text of an input (for runners that need it at once). */
export async function collectText(input: NftInput): Promise<string> {
  if (typeof input === 'string') return input;
  let text = '';
  for await (const chunk of input) text += chunk;
  return text;
}

export function nftRunner(binary = 'nft'): NftRunner {
  return (text) => runNft(text, binary);
}

export function runNft(input: NftInput, binary = 'nft'): Promise<void> {
  let text = typeof input === 'string' ? input : '';
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.on('error', (e) => reject(new NftError(`cannot run ${binary}: ${e.message}`, '')));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(new NftError(`${binary} -f - failed (exit ${code}): ${describe(stderr, text)}`, stderr));
    });
    child.stdin.on('error', () => {}); // nft exiting early closes the pipe; "close" reports why
    if (typeof input === 'string') {
      child.stdin.end(input);
      return;
    }
    // Streamed: nft parses each chunk while the next one is built.
    (async () => {
      for await (const chunk of input) {
        text += chunk;
        if (!child.stdin.write(chunk) && child.exitCode === null) {
          await new Promise((r) => {
            child.stdin.once('drain', r);
            child.once('close', r);
          });
        }
      }
      child.stdin.end();
    })().catch((e) => {
      child.kill();
      reject(e);
    });
  });
}

/** nft's first error, plus the input line it points at. */
function describe(stderr: string, text: string): string {
  const first = stderr.split('\n').find((l) => l.includes('Error')) ?? stderr.trim().split('\n')[0] ?? '';
  const m = /\/dev\/stdin:(\d+):/.exec(first);
  if (!m) return first;
  const line = text.split('\n', Number(m[1]))[Number(m[1]) - 1] ?? '';
  return `${first.trim()} [line ${m[1]}: ${line.length > 300 ? line.slice(0, 300) + '…' : line}]`;
}
