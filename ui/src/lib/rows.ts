import type { SpanTree } from './tree.js';

/**
 * The timeline's rows: span indices in pre-order, skipping the descendants of collapsed spans.
 * O(visible rows); the row components only ever see the slice that is on screen.
 */
export function visibleRows(tree: SpanTree, collapsed: ReadonlySet<number>): Int32Array {
  if (collapsed.size === 0) return tree.order;
  const out = new Int32Array(tree.size);
  let k = 0;
  for (let j = 0; j < tree.size; ) {
    const i = tree.order[j]!;
    out[k++] = i;
    j += collapsed.has(i) ? tree.subtreeSize[i]! : 1;
  }
  return out.subarray(0, k);
}

/** Collapse every span at depth >= level that has children (level 0 = collapse everything). */
export function collapseToDepth(tree: SpanTree, level: number): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < tree.size; i++) if (tree.depth[i]! >= level && tree.subtreeSize[i]! > 1) out.add(i);
  return out;
}

/** The collapsed set with every ancestor of `span` expanded, so that it becomes visible. */
export function revealSpan(tree: SpanTree, collapsed: ReadonlySet<number>, span: number): Set<number> {
  const out = new Set(collapsed);
  for (let p = tree.parent[span]!; p >= 0; p = tree.parent[p]!) out.delete(p);
  return out;
}

/** Where span i is among the rows, or -1. Binary search is not possible (rows are not sorted by
 * index) but rows are in pre-order, so positions in `tree.order` are increasing. */
export function rowIndexOf(tree: SpanTree, rows: Int32Array, span: number): number {
  const target = tree.position[span]!;
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = tree.position[rows[mid]!]!;
    if (p === target) return mid;
    if (p < target) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
