// The iptables rules in this network namespace, as the kernel has them: both backends are
// read (iptables-nft and iptables-legacy), since a proxy binary picks one itself. The output
// is streamed and counted, not kept: at 30,000 Services it is hundreds of thousands of lines.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

function scan(tool: string, needle: string): Promise<{ rules: number; found: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(tool, [], { stdio: ['ignore', 'pipe', 'ignore'] });
    let rules = 0;
    let found = false;
    child.once('error', () => resolve({ rules: 0, found: false })); // this backend is not installed
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      if (!l.startsWith('-A ')) return;
      rules++;
      if (!found && l.includes(needle)) found = true;
    });
    child.once('close', () => resolve({ rules, found }));
  });
}

/** How many rules (`-A` lines) both backends hold, and whether one of them names `needle`. */
export async function countIptablesRules(needle: string): Promise<{ rules: number; found: boolean }> {
  const [nft, legacy] = await Promise.all([scan('iptables-nft-save', needle), scan('iptables-legacy-save', needle)]);
  return { rules: nft.rules + legacy.rules, found: nft.found || legacy.found };
}
