/**
 * Jaeger's API v3 HTTP gateway (`/api/v3/...`): OTLP JSON results `{result: {resourceSpans}}`,
 * errors `{error: {httpCode, message}}`, 404 "No traces found" when nothing matches.
 * Parameters are the lowerCamelCase names (query.serviceName, …) with Jaeger's snake_case
 * aliases (query.service_name, …; query.num_traces for query.searchDepth). As in Jaeger,
 * query.startTimeMin and query.startTimeMax are required and searchDepth defaults to 100.
 * Extension: besides `query.attributes={json}`, `query.attributes.KEY=VALUE` pairs are accepted.
 */
import type { TraceQuery } from '../storage/api.js';
import { HttpError, JsonStream, type RequestContext, type Router } from './http.js';
import type { QueryTrace } from './model.js';
import { otlpResultPieces } from './otlp-json.js';
import {
  badParam,
  boolParam,
  durationParam,
  intParam,
  parseTagsJson,
  rfc3339Param,
  spanKindParam,
  traceIdParam,
} from './params.js';
import type { QueryService } from './service.js';

export const DEFAULT_SEARCH_DEPTH = 100;
export const MAX_SEARCH_DEPTH = 10_000;

export interface V3Options {
  readonly service: QueryService;
  readonly archive?: QueryService | undefined;
}

/** The canonical name's value, else the deprecated alias's; with the name that was used. */
function pick(q: URLSearchParams, ...names: string[]): { value: string; name: string } | undefined {
  for (const name of names) {
    const v = q.get(name);
    if (v !== null && v !== '') return { value: v, name };
  }
  return undefined;
}

function withName(q: URLSearchParams, names: string[], parse: (q: URLSearchParams, name: string) => bigint | undefined): bigint | undefined {
  const p = pick(q, ...names);
  return p ? parse(q, p.name) : undefined;
}

/** Parses /api/v3/traces parameters into a storage query. Exported for tests. */
export function parseFindTraces(q: URLSearchParams): TraceQuery {
  const service = pick(q, 'query.serviceName', 'query.service_name')?.value;
  const operation = pick(q, 'query.operationName', 'query.operation_name')?.value;
  const attributes = new Map<string, string>();
  const attrs = pick(q, 'query.attributes');
  if (attrs) parseTagsJson(attrs.value, 'query.attributes', attributes);
  for (const [k, v] of q) if (k.startsWith('query.attributes.') && k.length > 'query.attributes.'.length) attributes.set(k.slice('query.attributes.'.length), v);

  const minP = pick(q, 'query.startTimeMin', 'query.start_time_min');
  const maxP = pick(q, 'query.startTimeMax', 'query.start_time_max');
  if (!minP || !maxP) throw new HttpError(400, 'query.startTimeMin and query.startTimeMax are required');
  const startTimeMin = rfc3339Param(q, minP.name)!;
  const startTimeMax = rfc3339Param(q, maxP.name)!;
  if (startTimeMin >= startTimeMax) throw new HttpError(400, 'query.startTimeMin must be before query.startTimeMax');

  const durationMin = withName(q, ['query.durationMin', 'query.duration_min'], durationParam);
  const durationMax = withName(q, ['query.durationMax', 'query.duration_max'], durationParam);
  if (durationMin !== undefined && durationMax !== undefined && durationMax < durationMin) {
    throw badParam(pick(q, 'query.durationMax', 'query.duration_max')!.name, 'durationMax is smaller than durationMin');
  }
  const depthP = pick(q, 'query.searchDepth', 'query.search_depth', 'query.num_traces');
  const searchDepth = depthP ? intParam(q, depthP.name, DEFAULT_SEARCH_DEPTH, MAX_SEARCH_DEPTH) : DEFAULT_SEARCH_DEPTH;
  boolParam(q, ['query.rawTraces', 'query.raw_traces']); // validated; see rawOf
  return {
    ...(service ? { serviceName: service } : {}),
    ...(operation ? { operationName: operation } : {}),
    ...(attributes.size > 0 ? { attributes } : {}),
    startTimeMin,
    startTimeMax,
    ...(durationMin !== undefined ? { durationMin } : {}),
    ...(durationMax !== undefined ? { durationMax } : {}),
    searchDepth,
  };
}

function result(traces: QueryTrace[]): JsonStream {
  if (traces.length === 0) throw new HttpError(404, 'No traces found');
  return new JsonStream(otlpResultPieces(traces.length === 1 ? traces[0]!.rows : traces.flatMap((t) => t.rows)));
}

export function registerV3(router: Router, o: V3Options): void {
  const { service } = o;

  router.get('/api/v3/services', 'v3', async (ctx) => ({ services: await service.getServices({ tenant: ctx.tenant }) }));

  router.get('/api/v3/operations', 'v3', async (ctx) => {
    const serviceName = pick(ctx.query, 'service')?.value;
    if (!serviceName) throw new HttpError(400, 'malformed parameter service: required');
    const spanKind = spanKindParam(ctx.query, ['spanKind', 'span_kind']);
    const ops = await service.getOperations({ serviceName, ...(spanKind ? { spanKind } : {}) }, { tenant: ctx.tenant });
    return { operations: ops.map((op) => ({ name: op.name, spanKind: op.spanKind })) };
  });

  router.get('/api/v3/traces', 'v3', async (ctx) => {
    const query = parseFindTraces(ctx.query);
    const raw = boolParam(ctx.query, ['query.rawTraces', 'query.raw_traces']);
    return result(await service.findTraces(query, { tenant: ctx.tenant }, { raw }));
  });

  router.get('/api/v3/traces/:traceId', 'v3', async (ctx: RequestContext) => {
    const traceId = traceIdParam(ctx.params.traceId ?? '', 'trace_id');
    const start = withName(ctx.query, ['startTime', 'start_time'], rfc3339Param);
    const end = withName(ctx.query, ['endTime', 'end_time'], rfc3339Param);
    if (start !== undefined && end !== undefined && start > end) throw badParam('startTime', 'startTime is after endTime');
    const raw = boolParam(ctx.query, ['rawTraces', 'raw_traces']);
    const params = [{ traceId, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) }];
    let found = await service.getTraces(params, { tenant: ctx.tenant }, { raw });
    if (found.length === 0 && o.archive) found = await o.archive.getTraces(params, { tenant: ctx.tenant }, { raw });
    return result(found);
  });
}
