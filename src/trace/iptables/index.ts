// Tracing against iptables-save (or iptables-restore) text: parse once, trace any number of packets.
export { parseIptables, IptablesSyntaxError, type IptablesRuleset } from './parse.js';
export { traceIptables, type IptablesTraceOptions } from './walk.js';
