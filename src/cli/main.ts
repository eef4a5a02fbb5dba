// kproxy's command line. Each subcommand lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../util/errors.js';
import { registerRun } from './run.js';
import { registerServices } from './services.js';
import { registerRules } from './rules.js';
import { registerCleanup } from './cleanup.js';

const program = new Command();
program
  .name('kproxy')
  .description('A Kubernetes Service dataplane: userspace, nftables, iptables, ipvs and ebpf modes, a cluster DNS, and tools that explain where a packet goes.')
  .showHelpAfterError()
  .exitOverride();

registerRun(program);
registerServices(program);
registerRules(program);
registerCleanup(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof ConfigError) {
    process.stderr.write(`kproxy: invalid configuration: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`kproxy: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
