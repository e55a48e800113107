import type { z } from 'zod';
import type { SpanKind, TraceId, UnixNanos } from '../pdata/model.js';
import type { Traces } from '../pdata/traces.js';
import type { TelemetrySettings } from '../component/component.js';

/**
 * The storage contract (after Jaeger's storage v2 `tracestore` and `depstore` APIs).
 * Every backend implements `TraceStore` and runs the shared conformance suite
 * (`runStorageConformance` in conformance.ts) before its own tests.
 *
 * General rules
 * - Every call carries a `StorageContext`; data written for one tenant is never visible to
 *   another. Tenant '' is the default tenant.
 * - Errors: a backend throws `RetryableError` (components/errors.ts) when the caller may retry
 *   (overloaded, unreachable, timeouts) and `PermanentError` for bad input. Readers throw
 *   `UnsupportedError` for what `capabilities()` says they cannot do, so callers can fall back.
 * - Nothing returned is mutated by the backend afterwards, and callers never mutate it either.
 */
export interface StorageContext {
  readonly tenant: string;
}

export interface TraceWriter {
  /**
   * Writes a batch of spans (any number of traces, any order). Spans of a trace may arrive in
   * several calls, minutes apart: they join the same trace. Resolves when the data is as durable
   * as the backend promises (memory: stored; clickhouse: inserted). Writing the same span twice is
   * allowed; readers may then return it twice (at-least-once), backends should de-duplicate
   * retried batches when they can.
   */
  writeTraces(td: Traces, ctx: StorageContext): Promise<void>;
}

export interface GetTraceParams {
  readonly traceId: TraceId;
  /** Optional hints: the trace's spans started within [start, end]. Backends may use them to prune. */
  readonly start?: UnixNanos;
  readonly end?: UnixNanos;
}

/** Span kinds by their OTLP JSON names, as query APIs pass them ('' = any). */
export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface Operation {
  readonly name: string;
  readonly spanKind: SpanKindName | '';
}

/** The order of `getOperations`: by name, then by span kind name (`''` as `unspecified`). */
export function compareOperations(a: Operation, b: Operation): number {
  const ka = a.spanKind || 'unspecified';
  const kb = b.spanKind || 'unspecified';
  return a.name < b.name ? -1 : a.name > b.name ? 1 : ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * A search. All conditions except the time bounds and `searchDepth` apply to ONE span together:
 * a trace matches when at least one of its spans has `service.name` = serviceName, name =
 * operationName, every attribute (compared by string form: 123, 72.5, true) found among that span's
 * attributes, its events' attributes, its resource's, its scope's or its links' attributes,
 * duration within [durationMin, durationMax] and start within [startTimeMin, startTimeMax].
 * Omitted fields do not restrict. Results are whole traces, newest first (by the trace's latest
 * matching span start), at most `searchDepth` of them.
 */
export interface TraceQuery {
  readonly serviceName?: string;
  readonly operationName?: string;
  readonly spanKind?: SpanKindName;
  readonly attributes?: ReadonlyMap<string, string>;
  readonly startTimeMin?: UnixNanos;
  readonly startTimeMax?: UnixNanos;
  readonly durationMin?: UnixNanos;
  readonly durationMax?: UnixNanos;
  /** Maximum number of traces; > 0. */
  readonly searchDepth: number;
}

export interface FoundTraceId {
  readonly traceId: TraceId;
  /** The bounds of the trace's spans known to the backend, when it knows them. */
  readonly start?: UnixNanos;
  readonly end?: UnixNanos;
}

export interface DependencyLink {
  readonly parent: string;
  readonly child: string;
  readonly callCount: number;
}

export interface Capabilities {
  /** findTraceIds without fetching spans. */
  readonly findTraceIds: boolean;
  /** getDependencies. */
  readonly dependencies: boolean;
  /** Data survives a restart. */
  readonly durable: boolean;
}

export interface TraceReader {
  /**
   * The traces with these ids. Each yielded chunk is an array of `Traces`, each element holding
   * ALL the stored spans of exactly one trace (a trace is never split across elements). Ids that
   * are not found are skipped silently; the order of traces is unspecified.
   */
  getTraces(params: readonly GetTraceParams[], ctx: StorageContext): AsyncIterable<Traces[]>;
  /** Distinct `service.name` values, sorted. */
  getServices(ctx: StorageContext): Promise<string[]>;
  /** Distinct span names of a service (and kind, when given), sorted by name, then by span kind name. */
  getOperations(query: { serviceName: string; spanKind?: SpanKindName }, ctx: StorageContext): Promise<Operation[]>;
  /** Whole traces matching `query` (see TraceQuery), newest first, in chunks as getTraces does. */
  findTraces(query: TraceQuery, ctx: StorageContext): AsyncIterable<Traces[]>;
  /** The ids `findTraces` would return, in the same order. */
  findTraceIds(query: TraceQuery, ctx: StorageContext): AsyncIterable<FoundTraceId[]>;
}

export interface DependencyReader {
  /**
   * Service-to-service call counts over spans that started in [start, end]: one link per
   * (parent service, child service) pair where a span of the child service has a parent span
   * of a different service.
   */
  getDependencies(query: { start: UnixNanos; end: UnixNanos }, ctx: StorageContext): Promise<DependencyLink[]>;
}

/** A configured backend: what `jaeger_storage` creates for each entry of `backends`. */
export interface TraceStore extends TraceWriter, TraceReader, DependencyReader {
  capabilities(): Capabilities;
  /** Opens connections, creates schema. Called once before use. */
  start(): Promise<void>;
  /** Flushes and closes; idempotent; safe without start. */
  close(): Promise<void>;
}

export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
}

/** A backend type (`memory`, `clickhouse`) under `jaeger_storage.backends.NAME`. */
export interface StorageFactory<C = unknown> {
  readonly type: string;
  readonly description: string;
  readonly configSchema: z.ZodType<C>;
  createDefaultConfig(): C;
  create(cfg: C, telemetry: TelemetrySettings & { name: string }): TraceStore;
}

/** Maps OTLP SpanKind numbers to the names the query APIs use, and back. */
export const spanKindNames: readonly SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
export function spanKindName(kind: SpanKind): SpanKindName {
  return spanKindNames[kind] ?? 'unspecified';
}
