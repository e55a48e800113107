/**
 * Spans ⇄ rows of `otel_traces`.
 *
 * The OpenTelemetry Collector's columns keep every attribute as a string (`Map(String, String)`), so
 * that Grafana and SQL users see the familiar shape. What those columns lose is kept in `Extra`, a
 * compact JSON object written only when needed: the type of every non-string attribute value (its
 * string form in the map then decodes back exactly; arrays, maps and odd doubles keep their full
 * typed value), flags, dropped counts, schema URLs, out-of-range kinds/status codes and an end time
 * before the start. A row decodes back into exactly the span that was written.
 */
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
} from '../../pdata/model.js';
import { anyValueString } from '../../pdata/values.js';
import { PermanentError } from '../../component/errors.js';

/** Column list of INSERTs, in the order `encodeRows` writes them (JSONCompactEachRow). */
export const INSERT_COLUMNS = [
  'Tenant',
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'ScopeAttributes',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'Events.Timestamp',
  'Events.Name',
  'Events.Attributes',
  'Links.TraceId',
  'Links.SpanId',
  'Links.TraceState',
  'Links.Attributes',
  'Extra',
] as const;

/** SELECT list that `decodeRow` reads (JSONCompactEachRow); 64-bit values as strings. */
export const SELECT_COLUMNS = [
  'toString(toUnixTimestamp64Nano(Timestamp))',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  "CAST(ResourceAttributes, 'Array(Tuple(String, String))')",
  'ScopeName',
  'ScopeVersion',
  "CAST(ScopeAttributes, 'Array(Tuple(String, String))')",
  "CAST(SpanAttributes, 'Array(Tuple(String, String))')",
  'toString(Duration)',
  'StatusCode',
  'StatusMessage',
  "arrayMap(x -> toString(toUnixTimestamp64Nano(x)), `Events.Timestamp`)",
  '`Events.Name`',
  "arrayMap(m -> CAST(m, 'Array(Tuple(String, String))'), `Events.Attributes`)",
  '`Links.TraceId`',
  '`Links.SpanId`',
  '`Links.TraceState`',
  "arrayMap(m -> CAST(m, 'Array(Tuple(String, String))'), `Links.Attributes`)",
  'Extra',
].join(', ');

/** The Collector exporter's SpanKind / StatusCode strings (pdata's `String()`). */
export const KIND_STRINGS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
export const STATUS_STRINGS = ['Unset', 'Ok', 'Error'] as const;

// ------------------------------------------------------------------------------------------------
// Typed values
// ------------------------------------------------------------------------------------------------

/** A full typed value: [tag, payload]. */
type Typed =
  | ['s', string]
  | ['b', boolean]
  | ['i', string]
  | ['d', number | string]
  | ['y', string]
  | ['a', Typed[]]
  | ['k', [string, Typed][]]
  | ['e'];

/**
 * How a map value decodes back: absent = string; a one-letter tag when the string form decodes
 * exactly ('b' bool, 'i' int, 'd' double, 'y' base64 bytes, 'e' empty); otherwise the full value.
 */
type TypeInfo = string | Typed;

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function toTyped(v: AnyValue): Typed {
  if ('stringValue' in v) return ['s', v.stringValue];
  if ('boolValue' in v) return ['b', v.boolValue];
  if ('intValue' in v) return ['i', v.intValue.toString()];
  if ('doubleValue' in v) return ['d', Number.isFinite(v.doubleValue) && !Object.is(v.doubleValue, -0) ? v.doubleValue : specialDouble(v.doubleValue)];
  if ('bytesValue' in v) return ['y', b64(v.bytesValue)];
  if ('arrayValue' in v) return ['a', v.arrayValue.values.map(toTyped)];
  if ('kvlistValue' in v) return ['k', v.kvlistValue.values.map((kv) => [kv.key, toTyped(kv.value)])];
  return ['e'];
}

function specialDouble(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Inf';
  if (d === -Infinity) return '-Inf';
  return '-0';
}

function fromSpecialDouble(s: string): number {
  if (s === 'Inf' || s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === '-0') return -0;
  return Number(s);
}

function fromTyped(t: Typed): AnyValue {
  switch (t[0]) {
    case 's':
      return { stringValue: t[1] };
    case 'b':
      return { boolValue: t[1] };
    case 'i':
      return { intValue: BigInt(t[1]) };
    case 'd':
      return { doubleValue: typeof t[1] === 'number' ? t[1] : fromSpecialDouble(t[1]) };
    case 'y':
      return { bytesValue: new Uint8Array(Buffer.from(t[1], 'base64')) };
    case 'a':
      return { arrayValue: { values: t[1].map(fromTyped) } };
    case 'k':
      return { kvlistValue: { values: t[1].map(([key, v]) => ({ key, value: fromTyped(v) })) } };
    default:
      return {};
  }
}

/** The type info for a non-string value (undefined for strings). */
function typeInfo(v: AnyValue, s: string): TypeInfo | undefined {
  if ('stringValue' in v) return undefined;
  if ('boolValue' in v) return 'b';
  if ('intValue' in v) return 'i';
  if ('doubleValue' in v) return Object.is(Number(s), v.doubleValue) ? 'd' : toTyped(v);
  if ('bytesValue' in v) return 'y';
  if ('arrayValue' in v || 'kvlistValue' in v) return toTyped(v);
  return 'e';
}

function decodeValue(s: string, t: TypeInfo | undefined): AnyValue {
  if (t === undefined) return { stringValue: s };
  if (typeof t !== 'string') return fromTyped(t);
  switch (t) {
    case 'b':
      return { boolValue: s === 'true' };
    case 'i':
      return { intValue: BigInt(s) };
    case 'd':
      return { doubleValue: Number(s) };
    case 'y':
      return { bytesValue: new Uint8Array(Buffer.from(s, 'base64')) };
    case 'e':
      return {};
    default:
      return { stringValue: s };
  }
}

/** Attributes → the map's JSON text and the type infos of non-string values (undefined when none). */
function encodeAttrs(attrs: readonly KeyValue[]): { json: string; types: Record<string, TypeInfo> | undefined } {
  if (attrs.length === 0) return EMPTY_ATTRS;
  let json = '{';
  let types: Record<string, TypeInfo> | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    const s = anyValueString(kv.value);
    if (i > 0) json += ',';
    json += JSON.stringify(kv.key) + ':' + JSON.stringify(s);
    const t = typeInfo(kv.value, s);
    if (t !== undefined) (types ??= {})[kv.key] = t;
  }
  return { json: json + '}', types };
}
const EMPTY_ATTRS = { json: '{}', types: undefined };

function decodeAttrs(pairs: readonly [string, string][], types: Record<string, TypeInfo> | undefined): KeyValue[] {
  const out: KeyValue[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [key, s] = pairs[i]!;
    out[i] = { key, value: decodeValue(s, types?.[key]) };
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Extra
// ------------------------------------------------------------------------------------------------

interface OwnerExtra {
  /** schema URL */
  u?: string;
  /** dropped attributes count */
  d?: number;
  /** attribute types */
  t?: Record<string, TypeInfo>;
}

interface EventExtra {
  d?: number;
  t?: Record<string, TypeInfo>;
  /** time (ns) beyond DateTime64's range */
  x?: string;
}

interface LinkExtra {
  d?: number;
  t?: Record<string, TypeInfo>;
  f?: number;
}

interface Extra {
  /** span flags */
  f?: number;
  /** dropped attributes / events / links counts */
  ad?: number;
  ed?: number;
  ld?: number;
  /** span attribute types */
  at?: Record<string, TypeInfo>;
  /** raw kind / status code when outside the known enums */
  k?: number;
  c?: number;
  /** end time (ns) when it is before the start (Duration is then 0) or out of range */
  x?: string;
  /** start time (ns) beyond DateTime64's range (year 2262) */
  xs?: string;
  r?: OwnerExtra;
  s?: OwnerExtra;
  ev?: (EventExtra | 0)[];
  lk?: (LinkExtra | 0)[];
}

function ownerExtra(schemaUrl: string, dropped: number, types: Record<string, TypeInfo> | undefined): OwnerExtra | undefined {
  if (!schemaUrl && !dropped && !types) return undefined;
  const o: OwnerExtra = {};
  if (schemaUrl) o.u = schemaUrl;
  if (dropped) o.d = dropped;
  if (types) o.t = types;
  return o;
}

// ------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------

const NS_PER_S = 1_000_000_000n;
/** The largest time DateTime64(9) holds (Int64 nanoseconds). */
const MAX_NS = 9_223_372_036_854_775_807n;

/** DateTime64(9) input: `seconds.nanoseconds` (unambiguous for any value). */
function dt64(ns: bigint): string {
  if (ns > MAX_NS) ns = MAX_NS;
  const s = ns / NS_PER_S;
  const frac = (ns - s * NS_PER_S).toString();
  return '"' + s.toString() + '.' + '000000000'.slice(frac.length) + frac + '"';
}

const HEX_RE = /^[0-9a-f]*$/;
function checkId(id: string, len: number, what: string): string {
  if (id.length !== len || !HEX_RE.test(id)) throw new PermanentError(`invalid ${what} "${id}": expected ${len} lowercase hex digits`);
  return id;
}

export interface EncodedBatch {
  /** JSONCompactEachRow lines, each ending with '\n'. */
  readonly body: string;
  readonly rows: number;
}

/**
 * Encodes every span of `rs` for `tenant`. Throws PermanentError on data that cannot be stored
 * (malformed ids), before anything is written.
 */
export function encodeRows(rs: readonly ResourceSpans[], tenant: string): EncodedBatch {
  const tenantJson = JSON.stringify(tenant);
  const parts: string[] = [];
  let rows = 0;
  for (const r of rs) {
    const res = encodeAttrs(r.resource.attributes);
    let service = '';
    for (const kv of r.resource.attributes) {
      if (kv.key === 'service.name' && 'stringValue' in kv.value) {
        service = kv.value.stringValue;
        break;
      }
    }
    const resExtra = ownerExtra(r.schemaUrl, r.resource.droppedAttributesCount, res.types);
    const resourceCols = JSON.stringify(service) + ',' + res.json;
    for (const ss of r.scopeSpans) {
      const sc = encodeAttrs(ss.scope.attributes);
      const scExtra = ownerExtra(ss.schemaUrl, ss.scope.droppedAttributesCount, sc.types);
      const scopeCols = JSON.stringify(ss.scope.name) + ',' + JSON.stringify(ss.scope.version) + ',' + sc.json;
      for (const span of ss.spans) {
        parts.push(encodeSpan(span, tenantJson, resourceCols, scopeCols, resExtra, scExtra));
        rows++;
      }
    }
  }
  return { body: parts.join(''), rows };
}

function encodeSpan(
  s: Span,
  tenantJson: string,
  resourceCols: string,
  scopeCols: string,
  resExtra: OwnerExtra | undefined,
  scExtra: OwnerExtra | undefined,
): string {
  checkId(s.traceId, 32, 'trace id');
  checkId(s.spanId, 16, 'span id');
  if (s.parentSpanId !== '') checkId(s.parentSpanId, 16, 'parent span id');
  const extra: Extra = {};
  let hasExtra = false;
  if (resExtra) {
    extra.r = resExtra;
    hasExtra = true;
  }
  if (scExtra) {
    extra.s = scExtra;
    hasExtra = true;
  }
  if (s.flags) {
    extra.f = s.flags;
    hasExtra = true;
  }
  if (s.droppedAttributesCount) {
    extra.ad = s.droppedAttributesCount;
    hasExtra = true;
  }
  if (s.droppedEventsCount) {
    extra.ed = s.droppedEventsCount;
    hasExtra = true;
  }
  if (s.droppedLinksCount) {
    extra.ld = s.droppedLinksCount;
    hasExtra = true;
  }
  const kind = KIND_STRINGS[s.kind];
  if (kind === undefined) {
    extra.k = s.kind;
    hasExtra = true;
  }
  const status = STATUS_STRINGS[s.status.code];
  if (status === undefined) {
    extra.c = s.status.code;
    hasExtra = true;
  }
  let start = s.startTimeUnixNano;
  if (start > MAX_NS) {
    extra.xs = start.toString();
    start = MAX_NS;
    hasExtra = true;
  }
  let dur = s.endTimeUnixNano - start;
  if (dur < 0n || dur > MAX_NS || extra.xs !== undefined) {
    extra.x = s.endTimeUnixNano.toString();
    hasExtra = true;
    dur = dur < 0n ? 0n : dur > MAX_NS ? MAX_NS : dur;
  }
  const attrs = encodeAttrs(s.attributes);
  if (attrs.types) {
    extra.at = attrs.types;
    hasExtra = true;
  }

  let evTs = '[';
  let evNames = '[';
  let evAttrs = '[';
  if (s.events.length > 0) {
    let evExtra: (EventExtra | 0)[] | undefined;
    for (let i = 0; i < s.events.length; i++) {
      const e = s.events[i]!;
      if (i > 0) {
        evTs += ',';
        evNames += ',';
        evAttrs += ',';
      }
      evTs += dt64(e.timeUnixNano);
      evNames += JSON.stringify(e.name);
      const a = encodeAttrs(e.attributes);
      evAttrs += a.json;
      if (a.types || e.droppedAttributesCount || e.timeUnixNano > MAX_NS) {
        evExtra ??= new Array<EventExtra | 0>(s.events.length).fill(0);
        const x: EventExtra = {};
        if (e.droppedAttributesCount) x.d = e.droppedAttributesCount;
        if (e.timeUnixNano > MAX_NS) x.x = e.timeUnixNano.toString();
        if (a.types) x.t = a.types;
        evExtra[i] = x;
      }
    }
    if (evExtra) {
      extra.ev = evExtra;
      hasExtra = true;
    }
  }
  let lkTrace = '[';
  let lkSpan = '[';
  let lkState = '[';
  let lkAttrs = '[';
  if (s.links.length > 0) {
    let lkExtra: (LinkExtra | 0)[] | undefined;
    for (let i = 0; i < s.links.length; i++) {
      const l = s.links[i]!;
      if (i > 0) {
        lkTrace += ',';
        lkSpan += ',';
        lkState += ',';
        lkAttrs += ',';
      }
      lkTrace += '"' + checkId(l.traceId, 32, 'link trace id') + '"';
      lkSpan += '"' + checkId(l.spanId, 16, 'link span id') + '"';
      lkState += JSON.stringify(l.traceState);
      const a = encodeAttrs(l.attributes);
      lkAttrs += a.json;
      if (a.types || l.droppedAttributesCount || l.flags) {
        lkExtra ??= new Array<LinkExtra | 0>(s.links.length).fill(0);
        const x: LinkExtra = {};
        if (l.droppedAttributesCount) x.d = l.droppedAttributesCount;
        if (a.types) x.t = a.types;
        if (l.flags) x.f = l.flags;
        lkExtra[i] = x;
      }
    }
    if (lkExtra) {
      extra.lk = lkExtra;
      hasExtra = true;
    }
  }

  return (
    '[' +
    tenantJson +
    ',' +
    dt64(s.startTimeUnixNano) +
    ',"' +
    s.traceId +
    '","' +
    s.spanId +
    '","' +
    s.parentSpanId +
    '",' +
    JSON.stringify(s.traceState) +
    ',' +
    JSON.stringify(s.name) +
    ',"' +
    (kind ?? 'Unspecified') +
    '",' +
    resourceCols +
    ',' +
    scopeCols +
    ',' +
    attrs.json +
    ',"' +
    dur.toString() +
    '","' +
    (status ?? 'Unset') +
    '",' +
    JSON.stringify(s.status.message) +
    ',' +
    evTs +
    '],' +
    evNames +
    '],' +
    evAttrs +
    '],' +
    lkTrace +
    '],' +
    lkSpan +
    '],' +
    lkState +
    '],' +
    lkAttrs +
    '],' +
    (hasExtra ? JSON.stringify(JSON.stringify(extra)) : '""') +
    ']\n'
  );
}

// ------------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------------

type Pairs = [string, string][];

/** One row as `SELECT_COLUMNS` gives it in JSONCompactEachRow. */
export type RawRow = [
  string, // start ns
  string, // trace id
  string, // span id
  string, // parent span id
  string, // trace state
  string, // name
  string, // kind
  string, // service
  Pairs, // resource attributes
  string, // scope name
  string, // scope version
  Pairs, // scope attributes
  Pairs, // span attributes
  string, // duration ns
  string, // status code
  string, // status message
  string[], // event times
  string[], // event names
  Pairs[], // event attributes
  string[], // link trace ids
  string[], // link span ids
  string[], // link trace states
  Pairs[], // link attributes
  string, // extra
];

export interface DecodedRow {
  readonly span: Span;
  readonly resource: Resource;
  readonly resourceSchemaUrl: string;
  readonly scope: InstrumentationScope;
  readonly scopeSchemaUrl: string;
  /** Grouping keys: equal keys ⇔ equal resource / scope. */
  readonly resourceKey: string;
  readonly scopeKey: string;
}

const KIND_NUM: Record<string, number> = { Unspecified: 0, Internal: 1, Server: 2, Client: 3, Producer: 4, Consumer: 5 };
const STATUS_NUM: Record<string, number> = { Unset: 0, Ok: 1, Error: 2 };

export function decodeRow(r: RawRow): DecodedRow {
  const extra: Extra = r[23] ? (JSON.parse(r[23]) as Extra) : {};
  const start = extra.xs !== undefined ? BigInt(extra.xs) : BigInt(r[0]);
  const end = extra.x !== undefined ? BigInt(extra.x) : start + BigInt(r[13]);
  const events: SpanEvent[] = new Array(r[16].length);
  for (let i = 0; i < events.length; i++) {
    const x = extra.ev?.[i] || undefined;
    events[i] = {
      timeUnixNano: x?.x !== undefined ? BigInt(x.x) : BigInt(r[16][i]!),
      name: r[17][i]!,
      attributes: decodeAttrs(r[18][i]!, x?.t),
      droppedAttributesCount: x?.d ?? 0,
    };
  }
  const links: SpanLink[] = new Array(r[19].length);
  for (let i = 0; i < links.length; i++) {
    const x = extra.lk?.[i] || undefined;
    links[i] = {
      traceId: r[19][i]! as TraceId,
      spanId: r[20][i]! as SpanId,
      traceState: r[21][i]!,
      attributes: decodeAttrs(r[22][i]!, x?.t),
      droppedAttributesCount: x?.d ?? 0,
      flags: x?.f ?? 0,
    };
  }
  const span: Span = {
    traceId: r[1] as TraceId,
    spanId: r[2] as SpanId,
    traceState: r[4],
    parentSpanId: r[3] as SpanId | '',
    flags: extra.f ?? 0,
    name: r[5],
    kind: (extra.k ?? KIND_NUM[r[6]] ?? 0) as SpanKind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: decodeAttrs(r[12], extra.at),
    droppedAttributesCount: extra.ad ?? 0,
    events,
    droppedEventsCount: extra.ed ?? 0,
    links,
    droppedLinksCount: extra.ld ?? 0,
    status: { code: (extra.c ?? STATUS_NUM[r[14]] ?? 0) as StatusCode, message: r[15] },
  };
  const rx = extra.r;
  const sx = extra.s;
  return {
    span,
    resource: { attributes: decodeAttrs(r[8], rx?.t), droppedAttributesCount: rx?.d ?? 0 },
    resourceSchemaUrl: rx?.u ?? '',
    scope: { name: r[9], version: r[10], attributes: decodeAttrs(r[11], sx?.t), droppedAttributesCount: sx?.d ?? 0 },
    scopeSchemaUrl: sx?.u ?? '',
    resourceKey: JSON.stringify([r[8], rx ?? null]),
    scopeKey: JSON.stringify([r[9], r[10], r[11], sx ?? null]),
  };
}

/** Groups decoded rows (of one trace, or any set) into ResourceSpans / ScopeSpans. */
export function groupRows(rows: readonly DecodedRow[]): ResourceSpans[] {
  const byResource = new Map<string, { rs: { resource: Resource; schemaUrl: string }; scopes: Map<string, ScopeSpans & { spans: Span[] }> }>();
  for (const d of rows) {
    let g = byResource.get(d.resourceKey);
    if (!g) {
      g = { rs: { resource: d.resource, schemaUrl: d.resourceSchemaUrl }, scopes: new Map() };
      byResource.set(d.resourceKey, g);
    }
    let sc = g.scopes.get(d.scopeKey);
    if (!sc) {
      sc = { scope: d.scope, spans: [], schemaUrl: d.scopeSchemaUrl };
      g.scopes.set(d.scopeKey, sc);
    }
    sc.spans.push(d.span);
  }
  const out: ResourceSpans[] = [];
  for (const g of byResource.values()) {
    out.push({ resource: g.rs.resource, scopeSpans: [...g.scopes.values()], schemaUrl: g.rs.schemaUrl });
  }
  return out;
}
