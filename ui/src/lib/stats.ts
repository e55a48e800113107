import type { UiSpan } from './model.js';
import type { SpanTree } from './tree.js';

export interface OperationStats {
  service: string;
  operation: string;
  count: number;
  errors: number;
  totalUs: number;
  minUs: number;
  maxUs: number;
  avgUs: number;
  /** Time not covered by the span's children (its "exclusive" time), summed. */
  selfTotalUs: number;
}

/** Self time of span i: its duration minus the union of its children's intervals within it. */
export function selfTimes(spans: readonly UiSpan[], tree: SpanTree): Float64Array {
  const out = new Float64Array(tree.size);
  for (let i = 0; i < tree.size; i++) {
    const s = spans[i]!;
    const a = s.startUs;
    const b = s.startUs + s.durationUs;
    let covered = 0;
    let curS = -Infinity;
    let curE = -Infinity;
    // children are sorted by start
    for (let c = tree.childStart[i]!; c < tree.childStart[i + 1]!; c++) {
      const ch = spans[tree.childList[c]!]!;
      const cs = Math.max(a, ch.startUs);
      const ce = Math.min(b, ch.startUs + ch.durationUs);
      if (ce <= cs) continue;
      if (cs > curE) {
        if (curE > curS) covered += curE - curS;
        curS = cs;
        curE = ce;
      } else if (ce > curE) curE = ce;
    }
    if (curE > curS) covered += curE - curS;
    out[i] = Math.max(0, s.durationUs - covered);
  }
  return out;
}

export function operationStats(spans: readonly UiSpan[], tree: SpanTree): OperationStats[] {
  const self = selfTimes(spans, tree);
  const m = new Map<string, OperationStats>();
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const key = `${s.service}\u0000${s.name}`;
    let st = m.get(key);
    if (!st) {
      st = { service: s.service, operation: s.name, count: 0, errors: 0, totalUs: 0, minUs: Infinity, maxUs: 0, avgUs: 0, selfTotalUs: 0 };
      m.set(key, st);
    }
    st.count++;
    if (s.error) st.errors++;
    st.totalUs += s.durationUs;
    st.selfTotalUs += self[i]!;
    if (s.durationUs < st.minUs) st.minUs = s.durationUs;
    if (s.durationUs > st.maxUs) st.maxUs = s.durationUs;
  }
  const out = [...m.values()];
  for (const st of out) st.avgUs = st.totalUs / st.count;
  return out.sort((a, b) => b.selfTotalUs - a.selfTotalUs || a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
}

/** Per service: same figures, operations folded together. */
export function serviceStats(ops: readonly OperationStats[]): OperationStats[] {
  const m = new Map<string, OperationStats>();
  for (const o of ops) {
    let st = m.get(o.service);
    if (!st) m.set(o.service, (st = { ...o, operation: '*', count: 0, errors: 0, totalUs: 0, selfTotalUs: 0, minUs: Infinity, maxUs: 0 }));
    st.count += o.count;
    st.errors += o.errors;
    st.totalUs += o.totalUs;
    st.selfTotalUs += o.selfTotalUs;
    st.minUs = Math.min(st.minUs, o.minUs);
    st.maxUs = Math.max(st.maxUs, o.maxUs);
  }
  const out = [...m.values()];
  for (const st of out) st.avgUs = st.totalUs / st.count;
  return out.sort((a, b) => b.selfTotalUs - a.selfTotalUs);
}
