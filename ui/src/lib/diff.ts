import type { UiTrace } from './model.js';
import { buildTree, childrenOf, type SpanTree } from './tree.js';

/**
 * Comparison of two traces as one merged tree. Spans are matched by their path of
 * (service, operation) from the root; siblings with the same key are folded into one node with a
 * count, so that "the same call made 3 times in A and 5 times in B" lines up.
 */
export interface DiffSide {
  count: number;
  totalUs: number;
  errors: number;
}

export interface DiffNode {
  key: string;
  service: string;
  operation: string;
  depth: number;
  a: DiffSide | null;
  b: DiffSide | null;
  children: DiffNode[];
}

export type DiffState = 'a-only' | 'b-only' | 'both';

export function diffState(n: DiffNode): DiffState {
  return n.a && n.b ? 'both' : n.a ? 'a-only' : 'b-only';
}

/** Mean duration in B minus mean duration in A (µs); undefined unless in both. */
export function durationDelta(n: DiffNode): number | undefined {
  if (!n.a || !n.b) return undefined;
  return n.b.totalUs / n.b.count - n.a.totalUs / n.a.count;
}

interface Group {
  service: string;
  operation: string;
  members: number[];
}

function groupByKey(trace: UiTrace, idx: Iterable<number>): Map<string, Group> {
  const m = new Map<string, Group>();
  for (const i of idx) {
    const s = trace.spans[i]!;
    const key = `${s.service}\u0000${s.name}`;
    let g = m.get(key);
    if (!g) m.set(key, (g = { service: s.service, operation: s.name, members: [] }));
    g.members.push(i);
  }
  return m;
}

function side(trace: UiTrace, members: readonly number[]): DiffSide {
  let total = 0;
  let errors = 0;
  for (const i of members) {
    const s = trace.spans[i]!;
    total += s.durationUs;
    if (s.error) errors++;
  }
  return { count: members.length, totalUs: total, errors };
}

export function diffTraces(a: UiTrace, b: UiTrace, ta: SpanTree = buildTree(a.spans), tb: SpanTree = buildTree(b.spans)): DiffNode[] {
  const merge = (ia: readonly number[], ib: readonly number[], depth: number): DiffNode[] => {
    const ga = groupByKey(a, ia);
    const gb = groupByKey(b, ib);
    const keys = new Set([...ga.keys(), ...gb.keys()]);
    const out: DiffNode[] = [];
    for (const key of keys) {
      const x = ga.get(key);
      const y = gb.get(key);
      const kidsA: number[] = [];
      const kidsB: number[] = [];
      for (const i of x?.members ?? []) for (const c of childrenOf(ta, i)) kidsA.push(c);
      for (const i of y?.members ?? []) for (const c of childrenOf(tb, i)) kidsB.push(c);
      const g = (x ?? y)!;
      out.push({
        key,
        service: g.service,
        operation: g.operation,
        depth,
        a: x ? side(a, x.members) : null,
        b: y ? side(b, y.members) : null,
        children: merge(kidsA, kidsB, depth + 1),
      });
    }
    const first = (n: DiffNode): number => {
      const grp = ga.get(n.key) ?? gb.get(n.key);
      const tr = ga.has(n.key) ? a : b;
      return Math.min(...(grp?.members ?? []).map((i) => tr.spans[i]!.startUs - tr.startUs));
    };
    return out.sort((p, q) => first(p) - first(q));
  };
  return merge(ta.roots, tb.roots, 0);
}

/** Pre-order listing of the merged tree, skipping children of collapsed nodes (by path). */
export function flattenDiff(nodes: readonly DiffNode[], collapsed: ReadonlySet<string> = new Set(), prefix = ''): Array<{ node: DiffNode; path: string }> {
  const out: Array<{ node: DiffNode; path: string }> = [];
  const walk = (list: readonly DiffNode[], pre: string): void => {
    for (const n of list) {
      const path = `${pre}/${n.key}`;
      out.push({ node: n, path });
      if (!collapsed.has(path)) walk(n.children, path);
    }
  };
  walk(nodes, prefix);
  return out;
}

export function diffCounts(nodes: readonly DiffNode[]): Record<DiffState, number> {
  const c: Record<DiffState, number> = { 'a-only': 0, 'b-only': 0, both: 0 };
  const walk = (l: readonly DiffNode[]): void => {
    for (const n of l) {
      c[diffState(n)]++;
      walk(n.children);
    }
  };
  walk(nodes);
  return c;
}
