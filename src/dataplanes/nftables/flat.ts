// Strings the nftables dataplane keeps for as long as they are committed (chain names).
// V8 keeps a template literal's result as a tree of cons-string pieces, about 4 times the
// bytes of the flat string that Array.prototype.join builds (193 against 48 bytes for
// "10.100.1.2 . 80 . 3"). Strings that only live for one sync (element keys and values,
// rules, the transaction text) are built with + instead, which is cheaper.

/** The parts concatenated into one flat string. */
export const cat = (...parts: (string | number)[]): string => parts.join('');
