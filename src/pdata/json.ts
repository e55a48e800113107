import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  Resource,
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanId,
  SpanKind,
  SpanLink,
  StatusCode,
  TraceId,
} from './model.js';
import type { DecodedTraces } from './proto-view.js';
import type { ExportTraceResponse } from './proto-encode.js';
import { Traces } from './traces.js';
import { DecodeError } from './wire.js';

/**
 * OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): the protobuf JSON
 * mapping with OTLP's exceptions — trace and span ids are hex, not base64; enums are integers.
 * The decoder accepts lowerCamelCase and the proto's snake_case field names, int64 as strings or
 * numbers, enums as integers or their names, and ignores unknown fields, as the Collector does.
 */

type Obj = Record<string, unknown>;

function field(o: Obj, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

function fail(path: string, what: string): never {
  throw new DecodeError(`${path}: ${what}`);
}

function asObj(v: unknown, path: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(path, 'expected an object');
  return v as Obj;
}

function asArray(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v;
}

function asString(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(path, 'expected a string');
  return v;
}

function asUint32(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) fail(path, 'expected a uint32');
  return n;
}

const INT64_RE = /^-?\d+$/;

function asInt64(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'string') {
    if (INT64_RE.test(v)) return BigInt.asIntN(64, BigInt(v));
    // protojson also accepts exponent forms like "1e3" when they are integral
    const n = Number(v);
    if (v.trim() !== '' && Number.isInteger(n)) return BigInt(n);
    fail(path, 'expected an int64 (string or number)');
  }
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  fail(path, 'expected an int64 (string or number)');
}

function asUint64(v: unknown, path: string): bigint {
  const n = asInt64(v, path);
  if (n < 0n) fail(path, 'expected an unsigned int64');
  return n;
}

function asEnum(v: unknown, names: readonly string[], path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
    if (/^-?\d+$/.test(v)) return Number(v);
  }
  fail(path, `expected an enum value (integer or one of ${names.join(', ')})`);
}

const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Hex id → lowercase hex, or undefined when it is not `bytes` bytes of valid hex (or is all zero). */
function hexId(v: unknown, bytes: number, path: string, allowEmpty: boolean): string | undefined {
  const s = asString(v, path);
  if (s === '') return allowEmpty ? '' : undefined;
  if (s.length !== bytes * 2 || !HEX_RE.test(s)) return undefined;
  const lower = s.toLowerCase();
  if (/^0+$/.test(lower)) return allowEmpty ? '' : undefined;
  return lower;
}

function decodeBase64(v: unknown, path: string): Uint8Array {
  const s = asString(v, path);
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(s)) fail(path, 'expected base64');
  const b = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function decodeAnyValue(v: unknown, path: string, depth: number): AnyValue {
  if (depth > 64) fail(path, 'nested too deeply');
  const o = asObj(v, path);
  if (!o) return {};
  let x: unknown;
  if ((x = field(o, 'stringValue', 'string_value')) !== undefined && x !== null) return { stringValue: asString(x, `${path}.stringValue`) };
  if ((x = field(o, 'boolValue', 'bool_value')) !== undefined && x !== null) {
    if (typeof x !== 'boolean') fail(`${path}.boolValue`, 'expected a boolean');
    return { boolValue: x };
  }
  if ((x = field(o, 'intValue', 'int_value')) !== undefined && x !== null) return { intValue: asInt64(x, `${path}.intValue`) };
  if ((x = field(o, 'doubleValue', 'double_value')) !== undefined && x !== null) {
    if (typeof x === 'number') return { doubleValue: x };
    if (typeof x === 'string') {
      if (x === 'NaN') return { doubleValue: NaN };
      if (x === 'Infinity') return { doubleValue: Infinity };
      if (x === '-Infinity') return { doubleValue: -Infinity };
      const n = Number(x);
      if (x.trim() !== '' && !Number.isNaN(n)) return { doubleValue: n };
    }
    fail(`${path}.doubleValue`, 'expected a number');
  }
  if ((x = field(o, 'arrayValue', 'array_value')) !== undefined && x !== null) {
    const a = asObj(x, `${path}.arrayValue`) ?? {};
    return { arrayValue: { values: asArray(a.values, `${path}.arrayValue.values`).map((e, i) => decodeAnyValue(e, `${path}.arrayValue.values[${i}]`, depth + 1)) } };
  }
  if ((x = field(o, 'kvlistValue', 'kvlist_value')) !== undefined && x !== null) {
    const a = asObj(x, `${path}.kvlistValue`) ?? {};
    return { kvlistValue: { values: decodeAttributes(a.values, `${path}.kvlistValue.values`, depth + 1) } };
  }
  if ((x = field(o, 'bytesValue', 'bytes_value')) !== undefined && x !== null) return { bytesValue: decodeBase64(x, `${path}.bytesValue`) };
  return {};
}

function decodeAttributes(v: unknown, path: string, depth = 0): KeyValue[] {
  return asArray(v, path).map((e, i) => {
    const p = `${path}[${i}]`;
    const o = asObj(e, p) ?? {};
    return { key: asString(o.key, `${p}.key`), value: decodeAnyValue(o.value, `${p}.value`, depth + 1) };
  });
}

function dropped(o: Obj, camel: string, snake: string, path: string): number {
  return asUint32(field(o, camel, snake), `${path}.${camel}`);
}

interface Rejects {
  n: number;
  trace: number;
  span: number;
  parent: number;
}

function decodeSpan(v: unknown, path: string, rej: Rejects): Span | undefined {
  const o = asObj(v, path) ?? {};
  const traceId = hexId(field(o, 'traceId', 'trace_id'), 16, `${path}.traceId`, false);
  const spanId = hexId(field(o, 'spanId', 'span_id'), 8, `${path}.spanId`, false);
  const parentSpanId = hexId(field(o, 'parentSpanId', 'parent_span_id'), 8, `${path}.parentSpanId`, true);
  const statusObj = asObj(o.status, `${path}.status`) ?? {};
  const span: Span = {
    traceId: (traceId ?? '') as TraceId,
    spanId: (spanId ?? '') as SpanId,
    traceState: asString(field(o, 'traceState', 'trace_state'), `${path}.traceState`),
    parentSpanId: (parentSpanId ?? '') as SpanId | '',
    flags: asUint32(o.flags, `${path}.flags`),
    name: asString(o.name, `${path}.name`),
    kind: asEnum(o.kind, SPAN_KIND_NAMES, `${path}.kind`) as SpanKind,
    startTimeUnixNano: asUint64(field(o, 'startTimeUnixNano', 'start_time_unix_nano'), `${path}.startTimeUnixNano`),
    endTimeUnixNano: asUint64(field(o, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`),
    attributes: decodeAttributes(o.attributes, `${path}.attributes`),
    droppedAttributesCount: dropped(o, 'droppedAttributesCount', 'dropped_attributes_count', path),
    events: asArray(o.events, `${path}.events`).map((e, i): SpanEvent => {
      const p = `${path}.events[${i}]`;
      const eo = asObj(e, p) ?? {};
      return {
        timeUnixNano: asUint64(field(eo, 'timeUnixNano', 'time_unix_nano'), `${p}.timeUnixNano`),
        name: asString(eo.name, `${p}.name`),
        attributes: decodeAttributes(eo.attributes, `${p}.attributes`),
        droppedAttributesCount: dropped(eo, 'droppedAttributesCount', 'dropped_attributes_count', p),
      };
    }),
    droppedEventsCount: dropped(o, 'droppedEventsCount', 'dropped_events_count', path),
    links: asArray(o.links, `${path}.links`).map((e, i): SpanLink => {
      const p = `${path}.links[${i}]`;
      const lo = asObj(e, p) ?? {};
      const tid = asString(field(lo, 'traceId', 'trace_id'), `${p}.traceId`);
      const sid = asString(field(lo, 'spanId', 'span_id'), `${p}.spanId`);
      if (!HEX_RE.test(tid) || tid.length % 2) fail(`${p}.traceId`, 'expected hex');
      if (!HEX_RE.test(sid) || sid.length % 2) fail(`${p}.spanId`, 'expected hex');
      return {
        traceId: tid.toLowerCase() as TraceId,
        spanId: sid.toLowerCase() as SpanId,
        traceState: asString(field(lo, 'traceState', 'trace_state'), `${p}.traceState`),
        attributes: decodeAttributes(lo.attributes, `${p}.attributes`),
        droppedAttributesCount: dropped(lo, 'droppedAttributesCount', 'dropped_attributes_count', p),
        flags: asUint32(lo.flags, `${p}.flags`),
      };
    }),
    droppedLinksCount: dropped(o, 'droppedLinksCount', 'dropped_links_count', path),
    status: {
      message: asString(statusObj.message, `${path}.status.message`),
      code: asEnum(statusObj.code, STATUS_NAMES, `${path}.status.code`) as StatusCode,
    },
  };
  // Validity is checked after the whole span decoded: a malformed span is a 400, an invalid id a reject.
  if (traceId === undefined) rej.trace++;
  else if (spanId === undefined) rej.span++;
  else if (parentSpanId === undefined) rej.parent++;
  else return span;
  rej.n++;
  return undefined;
}

function decodeResource(v: unknown, path: string): Resource {
  const o = asObj(v, path) ?? {};
  return {
    attributes: decodeAttributes(o.attributes, `${path}.attributes`),
    droppedAttributesCount: dropped(o, 'droppedAttributesCount', 'dropped_attributes_count', path),
  };
}

function decodeScope(v: unknown, path: string): InstrumentationScope {
  const o = asObj(v, path) ?? {};
  return {
    name: asString(o.name, `${path}.name`),
    version: asString(o.version, `${path}.version`),
    attributes: decodeAttributes(o.attributes, `${path}.attributes`),
    droppedAttributesCount: dropped(o, 'droppedAttributesCount', 'dropped_attributes_count', path),
  };
}

function parseJson(input: string | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DecodeError(`invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * Decodes an OTLP/JSON `ExportTraceServiceRequest`. Throws DecodeError (naming the JSON path)
 * when the document does not have the OTLP shape; spans with invalid ids are left out and counted.
 */
export function decodeTraceRequestJson(input: string | Uint8Array): DecodedTraces {
  const root = asObj(parseJson(input), '$') ?? {};
  const rej: Rejects = { n: 0, trace: 0, span: 0, parent: 0 };
  const out: ResourceSpans[] = [];
  asArray(field(root, 'resourceSpans', 'resource_spans'), 'resourceSpans').forEach((rsv, i) => {
    const p = `resourceSpans[${i}]`;
    const rso = asObj(rsv, p) ?? {};
    const scopeSpans: ScopeSpans[] = asArray(field(rso, 'scopeSpans', 'scope_spans'), `${p}.scopeSpans`).map((ssv, j) => {
      const sp = `${p}.scopeSpans[${j}]`;
      const sso = asObj(ssv, sp) ?? {};
      const spans: Span[] = [];
      asArray(sso.spans, `${sp}.spans`).forEach((s, k) => {
        const span = decodeSpan(s, `${sp}.spans[${k}]`, rej);
        if (span) spans.push(span);
      });
      return { scope: decodeScope(sso.scope, `${sp}.scope`), spans, schemaUrl: asString(field(sso, 'schemaUrl', 'schema_url'), `${sp}.schemaUrl`) };
    });
    out.push({ resource: decodeResource(rso.resource, `${p}.resource`), scopeSpans, schemaUrl: asString(field(rso, 'schemaUrl', 'schema_url'), `${p}.schemaUrl`) });
  });
  let errorMessage = '';
  if (rej.n > 0) {
    const parts: string[] = [];
    if (rej.trace) parts.push(`${rej.trace} with a trace id that is not 16 bytes of hex or is all zero`);
    if (rej.span) parts.push(`${rej.span} with a span id that is not 8 bytes of hex or is all zero`);
    if (rej.parent) parts.push(`${rej.parent} with a parent span id that is neither empty nor 8 bytes of hex`);
    errorMessage = `${rej.n} invalid span(s) rejected: ${parts.join('; ')}`;
  }
  return { traces: Traces.fromResourceSpans(out), rejectedSpans: rej.n, errorMessage };
}

// ---------------------------------------------------------------------------------------------
// Encoding

export interface OtlpJsonKeyValue {
  key: string;
  value: OtlpJsonAnyValue;
}
export type OtlpJsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: OtlpJsonAnyValue[] } }
  | { kvlistValue: { values: OtlpJsonKeyValue[] } }
  | { bytesValue: string }
  | Record<string, never>;

/** The OTLP/JSON document for a `TracesData` / `ExportTraceServiceRequest`. */
export interface OtlpJsonTraces {
  resourceSpans: OtlpJsonResourceSpans[];
}
export interface OtlpJsonResourceSpans {
  resource: { attributes: OtlpJsonKeyValue[]; droppedAttributesCount?: number };
  scopeSpans: {
    scope: { name: string; version?: string; attributes?: OtlpJsonKeyValue[]; droppedAttributesCount?: number };
    spans: OtlpJsonSpan[];
    schemaUrl?: string;
  }[];
  schemaUrl?: string;
}
export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  traceState?: string;
  parentSpanId?: string;
  flags?: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpJsonKeyValue[];
  droppedAttributesCount?: number;
  events?: { timeUnixNano: string; name: string; attributes: OtlpJsonKeyValue[]; droppedAttributesCount?: number }[];
  droppedEventsCount?: number;
  links?: { traceId: string; spanId: string; traceState?: string; attributes: OtlpJsonKeyValue[]; droppedAttributesCount?: number; flags?: number }[];
  droppedLinksCount?: number;
  status: { code?: number; message?: string };
}

export function anyValueToJson(v: AnyValue): OtlpJsonAnyValue {
  if ('stringValue' in v) return { stringValue: v.stringValue };
  if ('boolValue' in v) return { boolValue: v.boolValue };
  if ('intValue' in v) return { intValue: v.intValue.toString() };
  if ('doubleValue' in v) return { doubleValue: Number.isFinite(v.doubleValue) ? v.doubleValue : doubleJson(v.doubleValue) };
  if ('arrayValue' in v) return { arrayValue: { values: v.arrayValue.values.map(anyValueToJson) } };
  if ('kvlistValue' in v) return { kvlistValue: { values: attributesToJson(v.kvlistValue.values) } };
  if ('bytesValue' in v) return { bytesValue: Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64') };
  return {};
}

function doubleJson(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  return d > 0 ? 'Infinity' : '-Infinity';
}

export function attributesToJson(kvs: readonly KeyValue[]): OtlpJsonKeyValue[] {
  return kvs.map((kv) => ({ key: kv.key, value: anyValueToJson(kv.value) }));
}

/**
 * Encodes traces as the OTLP/JSON `{resourceSpans: [...]}` document (what API v3 returns).
 * int64 values are strings, enums integers, ids hex. Required-looking fields (ids, name, kind,
 * times, attributes, status) are always present; optional ones only when set.
 */
export function tracesToOtlpJson(td: Traces | readonly ResourceSpans[]): OtlpJsonTraces {
  const rs = Array.isArray(td) ? (td as readonly ResourceSpans[]) : (td as Traces).resourceSpans();
  return {
    resourceSpans: rs.map((r) => {
      const out: OtlpJsonResourceSpans = {
        resource: { attributes: attributesToJson(r.resource.attributes) },
        scopeSpans: r.scopeSpans.map((ss) => {
          const scope: OtlpJsonResourceSpans['scopeSpans'][number]['scope'] = { name: ss.scope.name };
          if (ss.scope.version) scope.version = ss.scope.version;
          if (ss.scope.attributes.length) scope.attributes = attributesToJson(ss.scope.attributes);
          if (ss.scope.droppedAttributesCount) scope.droppedAttributesCount = ss.scope.droppedAttributesCount;
          const o: OtlpJsonResourceSpans['scopeSpans'][number] = { scope, spans: ss.spans.map(spanToJson) };
          if (ss.schemaUrl) o.schemaUrl = ss.schemaUrl;
          return o;
        }),
      };
      if (r.resource.droppedAttributesCount) out.resource.droppedAttributesCount = r.resource.droppedAttributesCount;
      if (r.schemaUrl) out.schemaUrl = r.schemaUrl;
      return out;
    }),
  };
}

export function spanToJson(s: Span): OtlpJsonSpan {
  const o: OtlpJsonSpan = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano.toString(),
    endTimeUnixNano: s.endTimeUnixNano.toString(),
    attributes: attributesToJson(s.attributes),
    status: {},
  };
  if (s.parentSpanId) o.parentSpanId = s.parentSpanId;
  if (s.traceState) o.traceState = s.traceState;
  if (s.flags) o.flags = s.flags;
  if (s.droppedAttributesCount) o.droppedAttributesCount = s.droppedAttributesCount;
  if (s.events.length) {
    o.events = s.events.map((e) => {
      const ev: NonNullable<OtlpJsonSpan['events']>[number] = { timeUnixNano: e.timeUnixNano.toString(), name: e.name, attributes: attributesToJson(e.attributes) };
      if (e.droppedAttributesCount) ev.droppedAttributesCount = e.droppedAttributesCount;
      return ev;
    });
  }
  if (s.droppedEventsCount) o.droppedEventsCount = s.droppedEventsCount;
  if (s.links.length) {
    o.links = s.links.map((l) => {
      const lk: NonNullable<OtlpJsonSpan['links']>[number] = { traceId: l.traceId, spanId: l.spanId, attributes: attributesToJson(l.attributes) };
      if (l.traceState) lk.traceState = l.traceState;
      if (l.droppedAttributesCount) lk.droppedAttributesCount = l.droppedAttributesCount;
      if (l.flags) lk.flags = l.flags;
      return lk;
    });
  }
  if (s.droppedLinksCount) o.droppedLinksCount = s.droppedLinksCount;
  if (s.status.code) o.status.code = s.status.code;
  if (s.status.message) o.status.message = s.status.message;
  return o;
}

/** OTLP/JSON request body (string). */
export function encodeTraceRequestJson(td: Traces | readonly ResourceSpans[]): string {
  return JSON.stringify(tracesToOtlpJson(td));
}

/** OTLP/JSON `ExportTraceServiceResponse`: `{}` or `{"partialSuccess":{...}}`. */
export function encodeTraceResponseJson(res?: ExportTraceResponse): string {
  if (!res || (BigInt(res.rejectedSpans) === 0n && !res.errorMessage)) return '{}';
  const ps: Record<string, string> = {};
  if (BigInt(res.rejectedSpans) !== 0n) ps.rejectedSpans = BigInt(res.rejectedSpans).toString();
  if (res.errorMessage) ps.errorMessage = res.errorMessage;
  return JSON.stringify({ partialSuccess: ps });
}

export function decodeTraceResponseJson(input: string | Uint8Array): { rejectedSpans: bigint; errorMessage: string } {
  const root = asObj(parseJson(input), '$') ?? {};
  const ps = asObj(field(root, 'partialSuccess', 'partial_success'), 'partialSuccess') ?? {};
  return {
    rejectedSpans: asInt64(field(ps, 'rejectedSpans', 'rejected_spans'), 'partialSuccess.rejectedSpans'),
    errorMessage: asString(field(ps, 'errorMessage', 'error_message'), 'partialSuccess.errorMessage'),
  };
}

/** `google.rpc.Status` as JSON, for OTLP/HTTP error bodies. */
export function encodeRpcStatusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}
