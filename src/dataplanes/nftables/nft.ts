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

export type NftRunner = (text: string) => Promise<void>;

export function nftRunner(binary = 'nft'): NftRunner {
  return (text) => runNft(text, binary);
}

export function runNft(text: string, binary = 'nft'): Promise<void> {
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
    child.stdin.end(text);
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
