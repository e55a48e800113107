import type { UiSpan } from './model.js';
import type { SpanTree } from './tree.js';

export interface FlameRect {
  span: number;
  depth: number;
  /** Fractions of the trace window, 0..1. */
  x: number;
  w: number;
}

/**
 * Flame graph rectangles: one per span at its depth, x and width by time within [startUs, endUs].
 * Spans narrower than `minFraction` are dropped (they would be under a pixel), so drawing cost
 * follows the screen, not the trace size.
 */
export function flameRects(spans: readonly UiSpan[], tree: SpanTree, startUs: number, endUs: number, minFraction = 0): FlameRect[] {
  const total = Math.max(1e-9, endUs - startUs);
  const out: FlameRect[] = [];
  for (let j = 0; j < tree.size; j++) {
    const i = tree.order[j]!;
    const s = spans[i]!;
    const a = Math.max(s.startUs, startUs);
    const b = Math.min(s.startUs + s.durationUs, endUs);
    if (b < a) continue;
    const w = (b - a) / total;
    if (w < minFraction) continue;
    out.push({ span: i, depth: tree.depth[i]!, x: (a - startUs) / total, w });
  }
  return out;
}
