// kproxy's command line. Each subcommand lives in its own file and registers itself here;
// the root command and the way a run ends (exit codes, one-line errors) are in program.ts.
import type { Command } from 'commander';
import { kproxyProgram, runProgram } from './program.js';

const program = kproxyProgram();

// Each subcommand's module imports what its action needs (`run` nearly everything): only the
// named subcommand's module is loaded, so that a one-shot command such as `kproxy trace`
// starts quickly; without a known subcommand name (help, a typo) all of them are.
const SUBCOMMANDS: Record<string, () => Promise<(p: Command) => void>> = {
  run: async () => (await import('./run.js')).registerRun,
  services: async () => (await import('./services.js')).registerServices,
  rules: async () => (await import('./rules.js')).registerRules,
  cleanup: async () => (await import('./cleanup.js')).registerCleanup,
  trace: async () => (await import('./trace.js')).registerTrace,
  bench: async () => (await import('./bench.js')).registerBench,
};
const named = SUBCOMMANDS[process.argv[2]];
for (const load of named ? [named] : Object.values(SUBCOMMANDS)) (await load())(program);

await runProgram(program);
