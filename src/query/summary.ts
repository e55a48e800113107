/**
 * Trace summaries: what a search results list needs about each trace (root span, time range, span
 * and error counts per service, incompleteness), computed in ONE pass over the storage's spans —
 * no Jaeger or OTLP JSON model, no per-span rows — so a search whose results include a
 * 50,000-span trace answers a few hundred bytes for it instead of tens of megabytes.
 *
 * The figures describe the trace as the query APIs return it: identical copies of a span
 * (at-least-once writes) count once, as the deduplicateSpans adjuster removes them, unless `raw`.
 * Clock-skew correction and max_trace_size truncation are not applied: start, duration and counts
 * are those of the stored spans.
 */
import type { InstrumentationScope, Resource, Span, SpanId, TraceId, UnixNanos } from '../pdata/model.js';
import { StatusCode } from '../pdata/model.js';
import type { Traces } from '../pdata/traces.js';
import { spanFingerprint } from './adjust.js';
import { serviceNameOf } from './jaeger-json.js';

export interface ServiceSummary {
  /** `service.name` of the spans' resource (Jaeger's `OTLPResourceNoServiceName` when absent). */
  name: string;
  spanCount: number;
  /** Spans with status ERROR. */
  errorCount: number;
}

/** One element of `GET /api/skua/trace-summaries`' `data` (field names in Jaeger JSON's style). */
export interface TraceSummary {
  traceID: string;
  /** Of the root span: the earliest span without a parent; the earliest span when none is. */
  rootServiceName: string;
  rootOperationName: string;
  rootSpanID: string;
  /** Earliest span start, µs since the epoch. */
  startTime: number;
  /** Latest span end − earliest span start, µs. */
  duration: number;
  spanCount: number;
  /** Spans with status ERROR. */
  errorCount: number;
  /** Per service, most spans first (then by name). */
  services: ServiceSummary[];
  /** Some span's parent is not in the trace (a stripped traceparent, sampling, a lost batch). */
  incomplete: boolean;
}

export interface SummaryOptions {
  /** Count identical copies of a span once (the deduplicateSpans adjuster); false for raw traces. */
  readonly dedupe: boolean;
}

interface Candidate {
  readonly span: Span;
  readonly service: string;
}

/** Earlier start first; on a tie the longer span (the enclosing one), then the smaller id: deterministic. */
function before(a: Span, b: Span): boolean {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano;
  if (a.endTimeUnixNano !== b.endTimeUnixNano) return a.endTimeUnixNano > b.endTimeUnixNano;
  return a.spanId < b.spanId;
}

/** '' is OTLP's "no parent"; an all-zero id is treated the same, as the adjusters do. */
function hasParent(parent: string): boolean {
  if (parent === '') return false;
  if (parent.charCodeAt(0) !== 48 /* '0' */) return true;
  return !/^0*$/.test(parent);
}

/** Accumulates the spans of ONE trace (in any number of calls), then `finish()` gives its summary. */
export class TraceSummaryBuilder {
  /** Span id → index of its first copy in spans/resources/scopes (kept to recognise copies). */
  private readonly index = new Map<SpanId, number>();
  private readonly spans: Span[] = [];
  private readonly resources: Resource[] = [];
  private readonly scopes: InstrumentationScope[] = [];
  /** Further spans sharing an id with an earlier one (rare): their indexes, by id. */
  private sameId: Map<SpanId, number[]> | undefined;
  /** Parent ids referenced by spans: checked against `index` at the end. */
  private readonly parents: string[] = [];
  private readonly services = new Map<string, ServiceSummary>();
  private readonly serviceOf = new Map<Resource, ServiceSummary>();
  private errors = 0;
  private start: UnixNanos = 0n;
  private end: UnixNanos = 0n;
  private root: Candidate | undefined;
  private earliest: Candidate | undefined;

  constructor(
    readonly traceId: TraceId,
    private readonly opts: SummaryOptions = { dedupe: true },
  ) {}

  get spanCount(): number {
    return this.spans.length;
  }

  add(resource: Resource, scope: InstrumentationScope, span: Span): void {
    const i = this.spans.length;
    const first = this.index.get(span.spanId);
    if (first === undefined) this.index.set(span.spanId, i);
    else {
      this.sameId ??= new Map();
      let others = this.sameId.get(span.spanId);
      if (this.opts.dedupe && this.isCopy(first, others, resource, scope, span)) return;
      if (!others) this.sameId.set(span.spanId, (others = []));
      others.push(i);
    }
    this.spans.push(span);
    this.resources.push(resource);
    this.scopes.push(scope);

    let svc = this.serviceOf.get(resource);
    if (svc === undefined) {
      const name = serviceNameOf(resource);
      svc = this.services.get(name);
      if (svc === undefined) this.services.set(name, (svc = { name, spanCount: 0, errorCount: 0 }));
      this.serviceOf.set(resource, svc);
    }
    svc.spanCount++;
    if (span.status.code === StatusCode.ERROR) {
      svc.errorCount++;
      this.errors++;
    }

    const s = span.startTimeUnixNano;
    const e = span.endTimeUnixNano > s ? span.endTimeUnixNano : s;
    if (i === 0 || s < this.start) this.start = s;
    if (i === 0 || e > this.end) this.end = e;

    if (hasParent(span.parentSpanId)) this.parents.push(span.parentSpanId);
    else if (this.root === undefined || before(span, this.root.span)) this.root = { span, service: svc.name };
    if (this.earliest === undefined || before(span, this.earliest.span)) this.earliest = { span, service: svc.name };
  }

  /** An identical copy of a span already counted (compared as the deduplicateSpans adjuster does). */
  private isCopy(first: number, others: readonly number[] | undefined, resource: Resource, scope: InstrumentationScope, span: Span): boolean {
    const fp = spanFingerprint(resource, scope, span);
    for (const j of [first, ...(others ?? [])]) {
      if (spanFingerprint(this.resources[j]!, this.scopes[j]!, this.spans[j]!) === fp) return true;
    }
    return false;
  }

  /** The summary; undefined when no span was added. */
  finish(): TraceSummary | undefined {
    const root = this.root ?? this.earliest;
    if (root === undefined) return undefined;
    let incomplete = false;
    for (const p of this.parents) {
      if (!this.index.has(p as SpanId)) {
        incomplete = true;
        break;
      }
    }
    return {
      traceID: this.traceId,
      rootServiceName: root.service,
      rootOperationName: root.span.name,
      rootSpanID: root.span.spanId,
      startTime: Number(this.start / 1000n),
      duration: Number((this.end - this.start) / 1000n),
      spanCount: this.spans.length,
      errorCount: this.errors,
      services: [...this.services.values()].sort((a, b) => b.spanCount - a.spanCount || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      incomplete,
    };
  }
}

/**
 * Feeds storage chunks into per-trace builders (each `Traces` normally holds exactly one trace;
 * spans of a trace found in several are merged by id), in first-seen order.
 */
export function summarizeInto(list: readonly Traces[], into: Map<TraceId, TraceSummaryBuilder>, opts: SummaryOptions): Map<TraceId, TraceSummaryBuilder> {
  for (const td of list) {
    for (const rs of td.resourceSpans()) {
      for (const ss of rs.scopeSpans) {
        let b: TraceSummaryBuilder | undefined;
        for (const span of ss.spans) {
          if (b?.traceId !== span.traceId) {
            b = into.get(span.traceId);
            if (!b) into.set(span.traceId, (b = new TraceSummaryBuilder(span.traceId, opts)));
          }
          b.add(rs.resource, ss.scope, span);
        }
      }
    }
  }
  return into;
}

/** The summaries of the traces in `list`, in first-seen order. */
export function summarizeTraces(list: readonly Traces[], opts: SummaryOptions = { dedupe: true }): TraceSummary[] {
  const out: TraceSummary[] = [];
  for (const b of summarizeInto(list, new Map(), opts).values()) {
    const s = b.finish();
    if (s) out.push(s);
  }
  return out;
}
