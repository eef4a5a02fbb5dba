// kube-proxy's process-control flags, so that a kube-proxy command line given to `kproxy run`
// does what it did there or says in one line why not: --cleanup removes what kproxy's kernel
// modes installed and exits (as `kproxy cleanup`); --init-only and --write-config-to are not
// built and stop kproxy before anything starts, saying what to use instead.
import { type Command, Option } from 'commander';
import { ConfigError } from '../util/errors.js';
import { runCleanup } from './cleanup.js';

export function addKubeProxyProcessFlags(cmd: Command): Command {
  cmd.addOption(new Option('--cleanup [bool]', 'as kube-proxy: remove what kproxy installed in the kernel and exit (same as kproxy cleanup)'));
  cmd.addOption(new Option('--init-only [bool]').hideHelp());
  cmd.addOption(new Option('--write-config-to <file>').hideHelp());
  return cmd;
}

const on = (v: unknown) => v !== undefined && v !== false && v !== 'false';

/** True when the flags asked for a one-shot action that is now done (the caller exits). */
export async function kubeProxyProcessFlags(opts: Record<string, unknown>): Promise<boolean> {
  for (const [key, flag] of [
    ['cleanup', '--cleanup'],
    ['initOnly', '--init-only'],
  ] as const) {
    const v = opts[key];
    if (v !== undefined && v !== true && v !== 'true' && v !== 'false') throw new ConfigError(flag, `expected true or false, got "${String(v)}"`);
  }
  if (on(opts.initOnly)) {
    throw new ConfigError('--init-only', 'not built: kproxy run makes its privileged settings (sysctls, conntrack limits) itself at start, so run it with the privileges kube-proxy had');
  }
  if (typeof opts.writeConfigTo === 'string') {
    throw new ConfigError('--write-config-to', 'not built: docs/configuration.md lists every field and its default, and a running kproxy serves the configuration it uses on /configz');
  }
  if (!on(opts.cleanup)) return false;
  await runCleanup(false);
  return true;
}
