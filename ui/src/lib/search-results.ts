/**
 * Search results: one row per trace, as Skua's `GET /api/skua/trace-summaries` returns them (the
 * same parameters as Jaeger's /api/traces, but a summary per trace instead of the whole trace, so
 * a result that is a 50,000-span trace costs a few hundred bytes rather than tens of megabytes).
 * `resultFromSummary` derives the same row from a whole trace, for query APIs without summaries.
 */
import type { ServiceCount, TraceSummary } from './summary.js';

export interface SearchResult {
  traceId: string;
  rootService: string;
  /** '' when the trace has no root span name. */
  rootName: string;
  startUs: number;
  durationUs: number;
  spanCount: number;
  errorCount: number;
  /** Some span's parent never arrived. */
  incomplete: boolean;
  /** Most spans first. */
  services: ServiceCount[];
}

/** The wire form of one summary (src/query/summary.ts on the server). */
export interface TraceSummaryJson {
  traceID: string;
  rootServiceName: string;
  rootOperationName: string;
  rootSpanID?: string;
  startTime: number;
  duration: number;
  spanCount: number;
  errorCount: number;
  services: Array<{ name: string; spanCount: number; errorCount: number }>;
  incomplete: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The results in a `/api/skua/trace-summaries` response `{data: [...], ...}`; throws when it is not one. */
export function parseTraceSummaries(doc: unknown): SearchResult[] {
  if (!isObj(doc) || !('data' in doc)) throw new Error('the trace summaries response has no data');
  if (doc.data === null) return [];
  if (!Array.isArray(doc.data)) throw new Error('the trace summaries response data is not a list');
  const out: SearchResult[] = [];
  for (const s of doc.data as unknown[]) {
    if (!isObj(s) || typeof s.traceID !== 'string' || s.traceID === '') throw new Error('a trace summary without traceID');
    const services: ServiceCount[] = [];
    if (Array.isArray(s.services)) {
      for (const x of s.services as unknown[]) {
        if (isObj(x)) services.push({ service: text(x.name), count: num(x.spanCount), errors: num(x.errorCount) });
      }
    }
    services.sort((a, b) => b.count - a.count || a.service.localeCompare(b.service));
    out.push({
      traceId: s.traceID.toLowerCase(),
      rootService: text(s.rootServiceName),
      rootName: text(s.rootOperationName),
      startUs: num(s.startTime),
      durationUs: num(s.duration),
      spanCount: num(s.spanCount),
      errorCount: num(s.errorCount),
      incomplete: s.incomplete === true,
      services,
    });
  }
  return out;
}

/** The result row of a whole trace's summary (when the API has no summaries). */
export function resultFromSummary(s: TraceSummary): SearchResult {
  return {
    traceId: s.traceId,
    rootService: s.rootService,
    rootName: s.rootName,
    startUs: s.startUs,
    durationUs: s.durationUs,
    spanCount: s.spanCount,
    errorCount: s.errorCount,
    incomplete: s.orphanCount > 0,
    services: s.services,
  };
}
