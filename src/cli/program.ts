// The root `kproxy` command and how a run of it ends, shared by the whole CLI (main.ts) and
// the entry `kproxy trace` starts from (trace-main.ts). A user's mistake (a flag, a path, a
// configuration field) ends in one line naming it and exit code 2; only a fault of kproxy
// itself prints a stack trace.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../util/errors.js';
import { builtModes } from './mode.js';
import { KPROXY_VERSION } from './version.js';

export function kproxyProgram(): Command {
  return new Command()
    .name('kproxy')
    .description(`A Kubernetes Service dataplane (modes built: ${builtModes().join(', ')}), a cluster DNS, and tools that explain where a packet goes.`)
    .version(KPROXY_VERSION, '--version', 'print the version and exit')
    .showHelpAfterError('(kproxy <command> --help lists the flags of a command)')
    .exitOverride();
}

/** Parses process.argv and runs the command it names, ending the process as described above on failure. */
export async function runProgram(program: Command): Promise<void> {
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
}
