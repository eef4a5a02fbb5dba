// kproxy's command line. Each subcommand lives in its own file and registers itself here.
// A user's mistake (a flag, a path, a configuration field) ends in one line naming it and
// exit code 2; only a fault of kproxy itself prints a stack trace.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../util/errors.js';
import { builtModes } from './mode.js';
import { KPROXY_VERSION } from './version.js';

const program = new Command();
program
  .name('kproxy')
  .description(`A Kubernetes Service dataplane (modes built: ${builtModes().join(', ')}), a cluster DNS, and tools that explain where a packet goes.`)
  .version(KPROXY_VERSION, '--version', 'print the version and exit')
  .showHelpAfterError('(kproxy <command> --help lists the flags of a command)')
  .exitOverride();

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

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 1 ? 2 : e.exitCode);
  if (e instanceof ConfigError) {
    process.stderr.write(e.field ? `kproxy: ${e.field}: ${e.reason}\n` : `kproxy: ${e.reason}\n`);
    process.exit(2);
  }
  process.stderr.write(`kproxy: internal error (please report it): ${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
