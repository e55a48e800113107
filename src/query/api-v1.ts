/**
 * Jaeger's HTTP JSON API v1 (`/api/...`), what Jaeger UI, Grafana's Jaeger data source and many
 * scripts call. Responses use Jaeger's envelope `{data, total, limit, offset, errors}`.
 *
 * Differences from Jaeger, on purpose: searching without `service` is allowed; `lookback` (1h, 2d,
 * …) is honoured when `start` is absent; `limit` defaults to 20; `tags` values may be JSON numbers
 * or booleans; `endTs` of /api/dependencies defaults to now.
 */
import type { TraceId, UnixNanos } from '../pdata/model.js';
import type { TraceQuery } from '../storage/api.js';
import { HttpError, JsonStream, type RequestContext, type Router } from './http.js';
import { jaegerTracePieces } from './jaeger-json.js';
import { groupRows, type QueryTrace } from './model.js';
import { Traces } from '../pdata/traces.js';
import {
  NS_PER_MS,
  NS_PER_US,
  badParam,
  boolParam,
  durationParam,
  epochParam,
  intParam,
  lookbackParam,
  parseTagsJson,
  spanKindParam,
  traceIdParam,
} from './params.js';
import type { QueryService } from './service.js';

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 10_000;
/** Jaeger's default when neither `start` nor `lookback` is given. */
export const DEFAULT_TRACE_LOOKBACK = 2n * 86_400n * 1_000_000_000n;
export const DEFAULT_DEPENDENCY_LOOKBACK = 86_400n * 1_000_000_000n;

export interface V1Options {
  readonly service: QueryService;
  /** The archive store's service (`storage.traces_archive`): searched when a trace id is not in the primary. */
  readonly archive?: QueryService | undefined;
  readonly now: () => UnixNanos;
}

export interface Envelope<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: { code?: number; msg: string; traceID?: string }[] | null;
}

function envelope<T>(data: T, total: number, limit = 0, errors: Envelope<T>['errors'] = null): Envelope<T> {
  return { data, total, limit, offset: 0, errors };
}

/** The envelope around traces, streamed trace by trace and span by span. */
function tracesEnvelope(traces: readonly QueryTrace[], limit: number, errors: Envelope<unknown>['errors']): JsonStream {
  return new JsonStream(
    (function* () {
      yield '{"data":[';
      for (let i = 0; i < traces.length; i++) {
        if (i > 0) yield ',';
        yield* jaegerTracePieces(traces[i]!);
      }
      yield `],"total":${traces.length},"limit":${limit},"offset":0,"errors":${JSON.stringify(errors)}}`;
    })(),
  );
}

/** Parses /api/traces search parameters into a storage query. Exported for tests. */
export function parseSearch(q: URLSearchParams, now: UnixNanos): TraceQuery {
  const attributes = new Map<string, string>();
  for (const t of q.getAll('tag')) {
    const i = t.indexOf(':');
    if (i <= 0) throw badParam('tag', `expecting key:value, received "${t}"`);
    attributes.set(t.slice(0, i), t.slice(i + 1));
  }
  for (const t of q.getAll('tags')) if (t.trim() !== '') parseTagsJson(t, 'tags', attributes);

  const end = epochParam(q, 'end', NS_PER_US) ?? now;
  const lookback = lookbackParam(q);
  const start = epochParam(q, 'start', NS_PER_US) ?? end - (lookback ?? DEFAULT_TRACE_LOOKBACK);
  if (start > end) throw badParam('start', 'start is after end');
  const durationMin = durationParam(q, 'minDuration');
  const durationMax = durationParam(q, 'maxDuration');
  if (durationMin !== undefined && durationMax !== undefined && durationMax < durationMin) {
    throw badParam('maxDuration', 'maxDuration is smaller than minDuration');
  }
  const service = q.get('service') ?? '';
  const operation = q.get('operation') ?? '';
  const spanKind = spanKindParam(q, ['spanKind']);
  return {
    ...(service !== '' ? { serviceName: service } : {}),
    ...(operation !== '' ? { operationName: operation } : {}),
    ...(spanKind ? { spanKind } : {}),
    ...(attributes.size > 0 ? { attributes } : {}),
    startTimeMin: start,
    startTimeMax: end,
    ...(durationMin !== undefined ? { durationMin } : {}),
    ...(durationMax !== undefined ? { durationMax } : {}),
    searchDepth: intParam(q, 'limit', DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT),
  };
}

export function registerV1(router: Router, o: V1Options): void {
  const { service } = o;

  async function byIds(ids: TraceId[], ctx: RequestContext, raw: boolean): Promise<{ found: QueryTrace[]; missing: TraceId[] }> {
    const found = await service.getTraces(ids.map((traceId) => ({ traceId })), { tenant: ctx.tenant }, { raw });
    let missing = ids.filter((id) => !found.some((t) => t.traceId === id));
    if (missing.length > 0 && o.archive) {
      const more = await o.archive.getTraces(missing.map((traceId) => ({ traceId })), { tenant: ctx.tenant }, { raw });
      found.push(...more);
      missing = missing.filter((id) => !more.some((t) => t.traceId === id));
    }
    const order = new Map(ids.map((id, i) => [id, i]));
    found.sort((a, b) => (order.get(a.traceId) ?? 0) - (order.get(b.traceId) ?? 0));
    return { found, missing: [...new Set(missing)] };
  }

  router.get('/api/services', 'v1', async (ctx) => {
    const services = await service.getServices({ tenant: ctx.tenant });
    return envelope(services, services.length);
  });

  router.get('/api/services/:service/operations', 'v1', async (ctx) => {
    const ops = await service.getOperations({ serviceName: ctx.params.service ?? '' }, { tenant: ctx.tenant });
    const names = [...new Set(ops.map((op) => op.name))].sort();
    return envelope(names, names.length);
  });

  router.get('/api/operations', 'v1', async (ctx) => {
    const serviceName = ctx.query.get('service') ?? '';
    if (serviceName === '') throw new HttpError(400, "parameter 'service' is required");
    const spanKind = spanKindParam(ctx.query, ['spanKind']);
    const ops = await service.getOperations({ serviceName, ...(spanKind ? { spanKind } : {}) }, { tenant: ctx.tenant });
    const data = ops.map((op) => ({ name: op.name, spanKind: op.spanKind }));
    return envelope(data, data.length);
  });

  router.get('/api/traces', 'v1', async (ctx) => {
    const raw = boolParam(ctx.query, ['raw']);
    const idParams = ctx.query.getAll('traceID').filter((v) => v !== '');
    if (idParams.length > 0) {
      const ids = idParams.map((v) => traceIdParam(v, 'traceID'));
      const { found, missing } = await byIds(ids, ctx, raw);
      const errors = missing.map((id) => ({ msg: 'trace not found', traceID: id }));
      return tracesEnvelope(found, 0, errors.length > 0 ? errors : null);
    }
    const query = parseSearch(ctx.query, o.now());
    const traces = await service.findTraces(query, { tenant: ctx.tenant }, { raw });
    return tracesEnvelope(traces, query.searchDepth, null);
  });

  // Skua's extension for search result lists: the same parameters as /api/traces, one summary per
  // trace instead of the whole trace (see summary.ts). /api/traces itself stays as Jaeger has it.
  router.get('/api/skua/trace-summaries', 'v1', async (ctx) => {
    const raw = boolParam(ctx.query, ['raw']);
    const idParams = ctx.query.getAll('traceID').filter((v) => v !== '');
    if (idParams.length > 0) {
      const ids = idParams.map((v) => traceIdParam(v, 'traceID'));
      const found = await service.getTraceSummaries(ids.map((traceId) => ({ traceId })), { tenant: ctx.tenant }, { raw });
      let missing = ids.filter((id) => !found.some((t) => t.traceID === id));
      if (missing.length > 0 && o.archive) {
        const more = await o.archive.getTraceSummaries(missing.map((traceId) => ({ traceId })), { tenant: ctx.tenant }, { raw });
        found.push(...more);
        missing = missing.filter((id) => !more.some((t) => t.traceID === id));
      }
      const order = new Map<string, number>();
      ids.forEach((id, i) => order.has(id) || order.set(id, i));
      found.sort((a, b) => (order.get(a.traceID) ?? 0) - (order.get(b.traceID) ?? 0));
      const errors = [...new Set(missing)].map((id) => ({ msg: 'trace not found', traceID: id }));
      return envelope(found, found.length, 0, errors.length > 0 ? errors : null);
    }
    const query = parseSearch(ctx.query, o.now());
    const found = await service.findTraceSummaries(query, { tenant: ctx.tenant }, { raw });
    return envelope(found, found.length, query.searchDepth);
  });

  router.get('/api/traces/:traceID', 'v1', async (ctx) => {
    const id = traceIdParam(ctx.params.traceID ?? '', 'traceID');
    const raw = boolParam(ctx.query, ['raw']);
    const { found } = await byIds([id], ctx, raw);
    if (found.length === 0) throw new HttpError(404, 'trace not found');
    return tracesEnvelope(found, 0, null);
  });

  // Jaeger UI's "Archive Trace": copies a trace from the primary backend to storage.traces_archive.
  router.post('/api/archive/:traceID', 'v1', async (ctx) => {
    const id = traceIdParam(ctx.params.traceID ?? '', 'traceID');
    if (!o.archive) throw new HttpError(501, 'archive storage is not configured (jaeger_query storage::traces_archive)');
    const [trace] = await service.getTraces([{ traceId: id }], { tenant: ctx.tenant }, { raw: true });
    if (!trace) throw new HttpError(404, 'trace not found');
    const resourceSpans = groupRows(trace.rows).map((g) => ({
      resource: g.resource,
      schemaUrl: g.schemaUrl,
      scopeSpans: g.scopes.map((s) => ({ scope: s.scope, schemaUrl: s.schemaUrl, spans: s.rows.map((r) => r.span) })),
    }));
    await o.archive.store.writeTraces(Traces.fromResourceSpans(resourceSpans), { tenant: ctx.tenant });
    return envelope([], 0, 0, []);
  });

  router.get('/api/dependencies', 'v1', async (ctx) => {
    const end = epochParam(ctx.query, 'endTs', NS_PER_MS) ?? o.now();
    const lookbackMs = epochParam(ctx.query, 'lookback', NS_PER_MS);
    if (lookbackMs === 0n) throw badParam('lookback', 'must be positive');
    const lookback = lookbackMs ?? DEFAULT_DEPENDENCY_LOOKBACK;
    const only = ctx.query.get('service') ?? '';
    let links = await service.getDependencies(end, lookback, { tenant: ctx.tenant });
    if (only !== '') links = links.filter((l) => l.parent === only || l.child === only);
    const data = links.map((l) => ({ parent: l.parent, child: l.child, callCount: l.callCount }));
    return envelope(data, data.length);
  });
}
