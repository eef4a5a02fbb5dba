// metav1.LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist),
// as the API server reads them. An empty selector matches everything, as in Kubernetes.
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: string[] }[];
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Parses one selector; returns a reason (naming the sub-field) when it is malformed. */
export function parseLabelSelector(raw: unknown): { ok: true; value: LabelSelector } | { ok: false; field: string; reason: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, field: '', reason: 'must be an object with matchLabels and/or matchExpressions' };
  const r = raw as Record<string, unknown>;
  const matchLabels: Record<string, string> = {};
  if (r.matchLabels !== undefined && r.matchLabels !== null) {
    if (typeof r.matchLabels !== 'object' || Array.isArray(r.matchLabels)) return { ok: false, field: '.matchLabels', reason: 'must be a map of label to value' };
    for (const [k, v] of Object.entries(r.matchLabels as Record<string, unknown>)) {
      if (typeof v !== 'string') return { ok: false, field: `.matchLabels.${k}`, reason: 'must be a string' };
      matchLabels[k] = v;
    }
  }
  const matchExpressions: LabelSelector['matchExpressions'] = [];
  if (r.matchExpressions !== undefined && r.matchExpressions !== null) {
    if (!Array.isArray(r.matchExpressions)) return { ok: false, field: '.matchExpressions', reason: 'must be a list' };
    for (const [i, e] of (r.matchExpressions as unknown[]).entries()) {
      const f = `.matchExpressions[${i}]`;
      const x = (e ?? {}) as Record<string, unknown>;
      if (typeof x.key !== 'string' || !x.key) return { ok: false, field: `${f}.key`, reason: 'required' };
      if (typeof x.operator !== 'string' || !OPERATORS.has(x.operator)) return { ok: false, field: `${f}.operator`, reason: 'must be In, NotIn, Exists or DoesNotExist' };
      const values = Array.isArray(x.values) ? x.values : [];
      if (values.some((v) => typeof v !== 'string')) return { ok: false, field: `${f}.values`, reason: 'must be a list of strings' };
      const op = x.operator as LabelSelector['matchExpressions'][number]['operator'];
      if ((op === 'In' || op === 'NotIn') && values.length === 0) return { ok: false, field: `${f}.values`, reason: `must be non-empty for operator ${op}` };
      if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) return { ok: false, field: `${f}.values`, reason: `must be empty for operator ${op}` };
      matchExpressions.push({ key: x.key, operator: op, values: values as string[] });
    }
  }
  return { ok: true, value: { matchLabels, matchExpressions } };
}

export function selectorMatches(s: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(s.matchLabels)) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** A list of selectors as MetalLB reads it: empty list = everything; otherwise any one matches. */
export function anySelectorMatches(list: readonly LabelSelector[], labels: Readonly<Record<string, string>>): boolean {
  return list.length === 0 || list.some((s) => selectorMatches(s, labels));
}
