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

// The walk's two stacks, kept between calls with their room (a stack top of its own: an
// array emptied by `length = 0` or by pop() gives its room back, and grew again for every
// document of every file, most of what the walk allocated).
const stack: (object | undefined)[] = [];
const depths: number[] = [];
let top = 0;

/**
 * Counts the nodes of value as a JSON serialisation would see them (shared references
 * counted every time), without recursion. Returns a reason when a limit is passed.
 */
export function checkExpansion(value: unknown, budget: number, maxDepth = MAX_MANIFEST_DEPTH): string | null {
  if (budget < 1) return tooMany(budget);
  if (value === null || typeof value !== 'object') return null;
  top = 0;
  push(value, 1);
  try {
    return walk(budget, maxDepth);
  } finally {
    while (top > 0) stack[--top] = undefined; // left over after a refusal: hold nothing
  }
}

function tooMany(budget: number): string {
  return `expands to more than ${budget} values (YAML aliases?); refused`;
}

function push(v: object, depth: number): void {
  stack[top] = v;
  depths[top] = depth;
  top++;
}

/** Two parallel stacks (no object per node: a folder of 100,000 Pods walks millions). */
function walk(budget: number, maxDepth: number): string | null {
  let nodes = 1;
  while (top > 0) {
    top--;
    const v = stack[top]!;
    stack[top] = undefined;
    const depth = depths[top];
    if (depth > maxDepth) return `nested more than ${maxDepth} levels deep; refused`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (++nodes > budget) return tooMany(budget);
        const c: unknown = v[i];
        if (c !== null && typeof c === 'object') push(c, depth + 1);
      }
    } else {
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        if (++nodes > budget) return tooMany(budget);
        const c: unknown = (v as Record<string, unknown>)[k];
        if (c !== null && typeof c === 'object') push(c, depth + 1);
      }
    }
  }
  return null;
}
