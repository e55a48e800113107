import type { UiTrace } from './model.js';
import { buildTree, type SpanTree } from './tree.js';
import { serviceColors } from './color.js';
import { summarize, type TraceSummary } from './summary.js';

/** Everything the trace page derives eagerly (cheap, O(n log n)); the rest is derived on demand. */
export interface TraceView {
  trace: UiTrace;
  tree: SpanTree;
  colors: Map<string, string>;
  summary: TraceSummary;
}

export function deriveTraceView(trace: UiTrace): TraceView {
  const tree = buildTree(trace.spans);
  const colors = serviceColors(trace.spans.map((s) => s.service));
  return { trace, tree, colors, summary: summarize(trace, tree) };
}
