// Where `kproxy trace` starts (bin/kproxy.js through trace-start.ts), bundled on its own by
// scripts/bundle.js into dist/src/trace-bundle/: the same command as `kproxy trace` through
// main.ts, with the modules a trace of a saved nftables ruleset needs in one file. A cold
// trace is mostly process start-up, and every module loaded and compiled on the way costs it.
// (No top-level await here: the bundle is CommonJS, see trace-start.ts.)
import { registerTrace } from './trace.js';
import { kproxyProgram, runProgram } from './program.js';

const program = kproxyProgram();
registerTrace(program);
void runProgram(program); // it ends the process itself on every failure
