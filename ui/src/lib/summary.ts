import type { UiTrace } from './model.js';
import type { SpanTree } from './tree.js';
import { buildTree } from './tree.js';

export interface ServiceCount {
  service: string;
  count: number;
  errors: number;
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  /** true when no span without a parent id was found. */
  rootMissing: boolean;
  startUs: number;
  durationUs: number;
  spanCount: number;
  errorCount: number;
  orphanCount: number;
  depth: number;
  services: ServiceCount[];
}

/** The figures shown in search results and the trace header. */
export function summarize(trace: UiTrace, tree: SpanTree = buildTree(trace.spans)): TraceSummary {
  const byService = new Map<string, ServiceCount>();
  let errors = 0;
  for (const s of trace.spans) {
    let c = byService.get(s.service);
    if (!c) byService.set(s.service, (c = { service: s.service, count: 0, errors: 0 }));
    c.count++;
    if (s.error) {
      c.errors++;
      errors++;
    }
  }
  // The root: the first span with no parent id at all; else the earliest orphan.
  let root = -1;
  for (const r of tree.roots) {
    if (trace.spans[r]!.parentSpanId === '') {
      root = r;
      break;
    }
  }
  const rootMissing = root < 0;
  if (root < 0) root = tree.roots[0] ?? -1;
  const rs = root >= 0 ? trace.spans[root] : undefined;
  return {
    traceId: trace.traceId,
    rootService: rs?.service ?? '',
    rootName: rs?.name ?? '',
    rootMissing,
    startUs: trace.startUs,
    durationUs: trace.endUs - trace.startUs,
    spanCount: trace.spans.length,
    errorCount: errors,
    orphanCount: tree.orphanCount,
    depth: trace.spans.length === 0 ? 0 : tree.maxDepth + 1,
    services: [...byService.values()].sort((a, b) => b.count - a.count || a.service.localeCompare(b.service)),
  };
}
