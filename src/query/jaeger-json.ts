/**
 * OTLP → Jaeger UI's JSON trace model (API v1), as Jaeger v2 translates it
 * (opentelemetry-collector-contrib pkg/translator/jaeger + Jaeger's v1adapter and JSON converter):
 * - span tags: `otel.scope.name` / `otel.scope.version`, then the span's attributes (sorted by key),
 *   then `span.kind` (not for UNSPECIFIED), `otel.status_code` (OK/ERROR), `error=true` (ERROR),
 *   `otel.status_description`, `w3c.tracestate`;
 * - references: the parent as CHILD_OF first, then links as FOLLOWS_FROM (CHILD_OF when the link's
 *   `opentracing.ref_type` attribute says `child_of`); a link to the parent only retypes it;
 * - logs from events (sorted by time), the event name as an `event` field unless an attribute has that key;
 * - processes from resources: `service.name` (or `OTLPResourceNoServiceName`) and the other resource
 *   attributes as tags, de-duplicated into p1, p2, …;
 * - arrays and maps become JSON strings, bytes are `binary` (base64), empty values empty strings;
 * - warnings from the adjusters and from a stored `@jaeger@warnings` attribute.
 */
import type { AnyValue, KeyValue, Resource, Span, StatusCode } from '../pdata/model.js';
import { StatusCode as Status, SpanKind } from '../pdata/model.js';
import { anyValueString } from '../pdata/values.js';
import { WARNINGS_ATTRIBUTE, type QueryTrace, type SpanRow } from './model.js';

export interface JaegerKeyValue {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64' | 'binary';
  value: string | boolean | number;
}
export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}
export interface JaegerLog {
  timestamp: number;
  fields: JaegerKeyValue[];
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  flags?: number;
  operationName: string;
  references: JaegerReference[];
  startTime: number;
  duration: number;
  tags: JaegerKeyValue[];
  logs: JaegerLog[];
  processID: string;
  warnings: string[] | null;
}
export interface JaegerProcess {
  serviceName: string;
  tags: JaegerKeyValue[];
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, JaegerProcess>;
  warnings: string[] | null;
}

export const NO_SERVICE_NAME = 'OTLPResourceNoServiceName';

const kindTag: Record<number, string | undefined> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

const us = (ns: bigint): number => Number(ns / 1000n);

export function toJaegerTag(kv: KeyValue): JaegerKeyValue {
  const v = kv.value;
  if ('stringValue' in v) return { key: kv.key, type: 'string', value: v.stringValue };
  if ('boolValue' in v) return { key: kv.key, type: 'bool', value: v.boolValue };
  if ('intValue' in v) return { key: kv.key, type: 'int64', value: Number(v.intValue) };
  if ('doubleValue' in v) return { key: kv.key, type: 'float64', value: v.doubleValue };
  if ('bytesValue' in v) return { key: kv.key, type: 'binary', value: Buffer.from(v.bytesValue).toString('base64') };
  if ('arrayValue' in v || 'kvlistValue' in v) return { key: kv.key, type: 'string', value: anyValueString(v) };
  return { key: kv.key, type: 'string', value: '' };
}

const byKey = (a: KeyValue, b: KeyValue) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Appends the attributes, sorted by key (`skip` left out), as tags to `out`. */
function pushSortedTags(out: JaegerKeyValue[], attrs: readonly KeyValue[], skip?: string): JaegerKeyValue[] {
  if (attrs.length === 0) return out;
  const list = skip === undefined ? attrs.slice() : attrs.filter((kv) => kv.key !== skip);
  list.sort(byKey);
  for (let i = 0; i < list.length; i++) out.push(toJaegerTag(list[i]!));
  return out;
}

function sortedTags(attrs: readonly KeyValue[], skip?: string): JaegerKeyValue[] {
  return pushSortedTags([], attrs, skip);
}

function statusName(code: StatusCode): string | undefined {
  return code === Status.ERROR ? 'ERROR' : code === Status.OK ? 'OK' : undefined;
}

function spanTags(row: SpanRow): JaegerKeyValue[] {
  const s = row.span;
  const tags: JaegerKeyValue[] = [];
  if (row.scope.name) tags.push({ key: 'otel.scope.name', type: 'string', value: row.scope.name });
  if (row.scope.version) tags.push({ key: 'otel.scope.version', type: 'string', value: row.scope.version });
  pushSortedTags(tags, s.attributes, WARNINGS_ATTRIBUTE);
  const kind = kindTag[s.kind];
  if (kind) tags.push({ key: 'span.kind', type: 'string', value: kind });
  const status = statusName(s.status.code);
  if (status) tags.push({ key: 'otel.status_code', type: 'string', value: status });
  if (s.status.code === Status.ERROR) tags.push({ key: 'error', type: 'bool', value: true });
  if (s.status.message) tags.push({ key: 'otel.status_description', type: 'string', value: s.status.message });
  if (s.traceState) tags.push({ key: 'w3c.tracestate', type: 'string', value: s.traceState });
  return tags;
}

function references(s: Span): JaegerReference[] {
  const refs: JaegerReference[] = [];
  const hasParent = s.parentSpanId !== '' && !/^0*$/.test(s.parentSpanId);
  if (hasParent) refs.push({ refType: 'CHILD_OF', traceID: s.traceId, spanID: s.parentSpanId });
  for (const l of s.links) {
    const rt = l.attributes.find((kv) => kv.key === 'opentracing.ref_type');
    const refType = rt && 'stringValue' in rt.value && rt.value.stringValue === 'child_of' ? 'CHILD_OF' : 'FOLLOWS_FROM';
    if (hasParent && l.traceId === s.traceId && l.spanId === s.parentSpanId) {
      refs[0]!.refType = refType;
      continue;
    }
    refs.push({ refType, traceID: l.traceId, spanID: l.spanId });
  }
  return refs;
}

function logs(s: Span): JaegerLog[] {
  if (s.events.length === 0) return [];
  const events = s.events.slice().sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : a.timeUnixNano > b.timeUnixNano ? 1 : 0));
  return events.map((e) => {
    const fields: JaegerKeyValue[] = [];
    if (e.name !== '' && !e.attributes.some((kv) => kv.key === 'event')) fields.push({ key: 'event', type: 'string', value: e.name });
    pushSortedTags(fields, e.attributes);
    return { timestamp: us(e.timeUnixNano), fields };
  });
}

function storedWarnings(s: Span): string[] {
  const kv = s.attributes.find((a) => a.key === WARNINGS_ATTRIBUTE);
  if (!kv) return [];
  if ('arrayValue' in kv.value) return kv.value.arrayValue.values.map(anyValueString);
  return [anyValueString(kv.value)];
}

export function serviceNameOf(resource: Resource): string {
  const kv = resource.attributes.find((a) => a.key === 'service.name');
  return kv ? anyValueString(kv.value) : NO_SERVICE_NAME;
}

/**
 * The process of a resource and its JSON, per resource object: the rows of one read share their
 * resource objects, so the traces of a search convert and serialise each resource once.
 */
const processCache = new WeakMap<Resource, { readonly proc: JaegerProcess; readonly json: string }>();

function processOf(resource: Resource): { readonly proc: JaegerProcess; readonly json: string } {
  let c = processCache.get(resource);
  if (c === undefined) {
    const proc: JaegerProcess = { serviceName: serviceNameOf(resource), tags: sortedTags(resource.attributes, 'service.name') };
    c = { proc, json: JSON.stringify(proc) };
    processCache.set(resource, c);
  }
  return c;
}

/**
 * Processes de-duplicated by content (p1, p2, … in order of first use), each row's process id, and
 * the JSON of the processes object.
 */
export function jaegerProcesses(rows: readonly SpanRow[]): { processes: Record<string, JaegerProcess>; pidOf: (row: SpanRow) => string; json: () => string } {
  const processes: Record<string, JaegerProcess> = {};
  const byResource = new Map<Resource, string>();
  const byContent = new Map<string, string>();
  const pidOf = (row: SpanRow): string => {
    let pid = byResource.get(row.resource);
    if (pid === undefined) {
      const { proc, json } = processOf(row.resource);
      pid = byContent.get(json);
      if (pid === undefined) {
        pid = `p${byContent.size + 1}`;
        byContent.set(json, pid);
        processes[pid] = proc;
      }
      byResource.set(row.resource, pid);
    }
    return pid;
  };
  for (const row of rows) pidOf(row);
  const json = (): string => {
    let out = '{';
    for (const [content, pid] of byContent) out += (out.length > 1 ? ',"' : '"') + pid + '":' + content;
    return out + '}';
  };
  return { processes, pidOf, json };
}

export function toJaegerSpan(row: SpanRow, processID: string): JaegerSpan {
  const s = row.span;
  const warnings = row.warnings.length > 0 || s.attributes.some((a) => a.key === WARNINGS_ATTRIBUTE) ? [...storedWarnings(s), ...row.warnings] : [];
  const flags = s.flags & 0xff;
  return {
    traceID: s.traceId,
    spanID: s.spanId,
    ...(flags !== 0 ? { flags } : {}),
    operationName: s.name,
    references: references(s),
    startTime: us(s.startTimeUnixNano),
    duration: us(s.endTimeUnixNano - s.startTimeUnixNano),
    tags: spanTags(row),
    logs: logs(s),
    processID,
    warnings: warnings.length > 0 ? warnings : null,
  };
}

/** Converts one (adjusted) trace; spans keep the rows' order. */
export function toJaegerTrace(t: QueryTrace): JaegerTrace {
  const { processes, pidOf } = jaegerProcesses(t.rows);
  return { traceID: t.traceId, spans: t.rows.map((r) => toJaegerSpan(r, pidOf(r))), processes, warnings: null };
}

/** The JSON text of `toJaegerTrace(t)`, in pieces (one object per span at a time). */
export function* jaegerTracePieces(t: QueryTrace): Generator<string> {
  const { pidOf, json } = jaegerProcesses(t.rows);
  yield `{"traceID":${JSON.stringify(t.traceId)},"spans":[`;
  for (let i = 0; i < t.rows.length; i++) {
    const row = t.rows[i]!;
    if (i > 0) yield ',';
    yield JSON.stringify(toJaegerSpan(row, pidOf(row)));
  }
  yield `],"processes":${json()},"warnings":null}`;
}
