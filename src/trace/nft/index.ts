// Tracing against nft text: parse once, trace any number of packets.
export { parseNft } from './parser.js';
export { traceNft, type NftTraceOptions } from './walk.js';
export { NftSyntaxError } from './lexer.js';
export { TraceError } from './eval.js';
export type { Ruleset } from './ast.js';
