/**
 * The query service: what both API families call. It reads through the storage contract, groups
 * chunks into whole traces and applies the adjusters (unless `raw`). API handlers only parse
 * parameters and shape responses.
 */
import type { TraceId, UnixNanos } from '../pdata/model.js';
import type {
  DependencyLink,
  GetTraceParams,
  Operation,
  SpanKindName,
  StorageContext,
  TraceQuery,
  TraceStore,
} from '../storage/api.js';
import { adjustTrace, type AdjustOptions } from './adjust.js';
import { rowsByTrace, type QueryTrace } from './model.js';
import { summarizeInto, type TraceSummary, type TraceSummaryBuilder } from './summary.js';

export interface QueryServiceOptions extends AdjustOptions {}

export const defaultQueryServiceOptions: QueryServiceOptions = { maxClockSkewAdjust: 0n, maxTraceSize: 0 };

export class QueryService {
  constructor(
    readonly store: TraceStore,
    private readonly opts: QueryServiceOptions = defaultQueryServiceOptions,
  ) {}

  getServices(ctx: StorageContext): Promise<string[]> {
    return this.store.getServices(ctx);
  }

  getOperations(query: { serviceName: string; spanKind?: SpanKindName }, ctx: StorageContext): Promise<Operation[]> {
    return this.store.getOperations(query, ctx);
  }

  /** The traces with these ids, in the order asked; missing ids are absent from the result. */
  async getTraces(params: readonly GetTraceParams[], ctx: StorageContext, opts: { raw?: boolean } = {}): Promise<QueryTrace[]> {
    if (params.length === 0) return [];
    const byId = new Map<TraceId, QueryTrace>();
    for await (const chunk of this.store.getTraces(params, ctx)) rowsByTrace(chunk, byId);
    const out: QueryTrace[] = [];
    const seen = new Set<TraceId>();
    for (const p of params) {
      const t = byId.get(p.traceId);
      if (!t || seen.has(p.traceId)) continue;
      seen.add(p.traceId);
      out.push(this.finish(t, opts.raw));
    }
    return out;
  }

  /** Whole traces matching the query, newest first (the storage's order). */
  async findTraces(query: TraceQuery, ctx: StorageContext, opts: { raw?: boolean } = {}): Promise<QueryTrace[]> {
    const byId = new Map<TraceId, QueryTrace>();
    for await (const chunk of this.store.findTraces(query, ctx)) {
      rowsByTrace(chunk, byId);
      if (byId.size >= query.searchDepth) break;
    }
    return [...byId.values()].slice(0, query.searchDepth).map((t) => this.finish(t, opts.raw));
  }

  /**
   * Summaries of the traces `findTraces` would return, in the same order, computed in one pass
   * over the stored spans (no per-span rows, no adjusters but de-duplication unless `raw`).
   */
  async findTraceSummaries(query: TraceQuery, ctx: StorageContext, opts: { raw?: boolean } = {}): Promise<TraceSummary[]> {
    const byId = new Map<TraceId, TraceSummaryBuilder>();
    for await (const chunk of this.store.findTraces(query, ctx)) {
      summarizeInto(chunk, byId, { dedupe: !opts.raw });
      if (byId.size >= query.searchDepth) break;
    }
    return finishAll([...byId.values()].slice(0, query.searchDepth));
  }

  /** Summaries of the traces with these ids, in the order asked; missing ids are absent. */
  async getTraceSummaries(params: readonly GetTraceParams[], ctx: StorageContext, opts: { raw?: boolean } = {}): Promise<TraceSummary[]> {
    if (params.length === 0) return [];
    const byId = new Map<TraceId, TraceSummaryBuilder>();
    for await (const chunk of this.store.getTraces(params, ctx)) summarizeInto(chunk, byId, { dedupe: !opts.raw });
    const seen = new Set<TraceId>();
    const builders: TraceSummaryBuilder[] = [];
    for (const p of params) {
      const b = byId.get(p.traceId);
      if (!b || seen.has(p.traceId)) continue;
      seen.add(p.traceId);
      builders.push(b);
    }
    return finishAll(builders);
  }

  /** Dependency links over [end - lookback, end], merged per (parent, child). */
  async getDependencies(end: UnixNanos, lookback: UnixNanos, ctx: StorageContext): Promise<DependencyLink[]> {
    const links = await this.store.getDependencies({ start: end - lookback, end }, ctx);
    const merged = new Map<string, DependencyLink>();
    for (const l of links) {
      const k = `${l.parent}\u0000${l.child}`;
      const prev = merged.get(k);
      merged.set(k, { parent: l.parent, child: l.child, callCount: (prev?.callCount ?? 0) + l.callCount });
    }
    return [...merged.values()].sort((a, b) => (a.parent === b.parent ? cmp(a.child, b.child) : cmp(a.parent, b.parent)));
  }

  private finish(t: QueryTrace, raw: boolean | undefined): QueryTrace {
    if (!raw) adjustTrace(t, this.opts);
    t.rows.sort((a, b) => cmpBig(a.span.startTimeUnixNano, b.span.startTimeUnixNano));
    return t;
  }
}

function finishAll(builders: readonly TraceSummaryBuilder[]): TraceSummary[] {
  const out: TraceSummary[] = [];
  for (const b of builders) {
    const s = b.finish();
    if (s) out.push(s);
  }
  return out;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
