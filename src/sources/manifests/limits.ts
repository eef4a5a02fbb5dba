// Limits on what one manifest file may cost. A file over any of them is an error on that
// file (reported with its path, its objects kept as for any file that stops parsing); the
// rest of the folder is unaffected.
//  - size: Kubernetes keeps an object under 1.5 MiB in etcd; a folder file may hold many
//    objects, so the cap is generous but stops a runaway file from filling memory;
//  - expanded nodes: YAML aliases let a few hundred bytes stand for a billion values
//    ("billion laughs"). js-yaml shares the aliased value instead of copying it, so parsing
//    is cheap, but anything that walks the result (validation, JSON.stringify) pays the
//    expanded size. The expanded value may have at most a fixed allowance plus ten nodes per
//    byte of text, which no file without aliases (or with a few) comes near;
//  - depth: no Kubernetes object nests 100 levels; deeper input would only serve to
//    exhaust the stack of every recursive walk downstream.
export const MAX_MANIFEST_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_MANIFEST_DEPTH = 100;

export function expandedNodeBudget(textLength: number): number {
  return 100_000 + 10 * textLength;
}

/**
 * Counts the nodes of value as a JSON serialisation would see them (shared references
 * counted every time), without recursion. Returns a reason when a limit is passed.
 */
export function checkExpansion(value: unknown, budget: number, maxDepth = MAX_MANIFEST_DEPTH): string | null {
  let nodes = 0;
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (++nodes > budget) return `expands to more than ${budget} values (YAML aliases?); refused`;
    if (v === null || typeof v !== 'object') continue;
    if (depth > maxDepth) return `nested more than ${maxDepth} levels deep; refused`;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const c of children) {
      if (c !== null && typeof c === 'object') stack.push({ v: c, depth: depth + 1 });
      else if (++nodes > budget) return `expands to more than ${budget} values (YAML aliases?); refused`;
    }
  }
  return null;
}
