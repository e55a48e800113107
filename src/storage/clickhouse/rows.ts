/**
 * Spans ⇄ rows of `otel_traces`.
 *
 * The OpenTelemetry Collector's columns keep every attribute as a string (`Map(String, String)`), so
 * that Grafana and SQL users see the familiar shape. What those columns lose is kept in `Extra`, a
 * compact JSON object written only when needed: the type of every non-string attribute value (its
 * string form in the map then decodes back exactly; arrays, maps and odd doubles keep their full
 * typed value), flags, dropped counts, out-of-range kinds/status codes, times beyond DateTime64.
 * A row decodes back into exactly the span that was written.
 *
 * Write format (see docs/storage.md, "Write path"): ClickHouse parses JSON at a fixed cost per byte,
 * so a row carries only what is span-specific. The resource and scope of a span (often 1 KB of
 * attributes, the same for thousands of spans) are an "owner" sent once per INSERT; rows refer to
 * their owner by id, and the INSERT … SELECT expands it.
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

/** The Collector exporter's SpanKind / StatusCode strings (pdata's `String()`). */
export const KIND_STRINGS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
export const STATUS_STRINGS = ['Unset', 'Ok', 'Error'] as const;

// ------------------------------------------------------------------------------------------------
// JSON text safe inside a ClickHouse heredoc ($$…$$): '$' never appears raw.
// ------------------------------------------------------------------------------------------------

export function js(s: string): string {
  const j = JSON.stringify(s);
  return j.indexOf('$') < 0 ? j : j.replace(/\$/g, '\\u0024');
}

const keyCache = new Map<string, string>();
export function jsKey(k: string): string {
  let j = keyCache.get(k);
  if (j === undefined) {
    j = js(k);
    if (keyCache.size > 50_000) keyCache.clear();
    keyCache.set(k, j);
  }
  return j;
}

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
  if ('doubleValue' in v) {
    const d = v.doubleValue;
    return ['d', Number.isFinite(d) && !Object.is(d, -0) ? d : Number.isNaN(d) ? 'NaN' : d === Infinity ? 'Inf' : d === -Infinity ? '-Inf' : '-0'];
  }
  if ('bytesValue' in v) return ['y', b64(v.bytesValue)];
  if ('arrayValue' in v) return ['a', v.arrayValue.values.map(toTyped)];
  if ('kvlistValue' in v) return ['k', v.kvlistValue.values.map((kv) => [kv.key, toTyped(kv.value)])];
  return ['e'];
}

function fromTyped(t: Typed): AnyValue {
  switch (t[0]) {
    case 's':
      return { stringValue: t[1] };
    case 'b':
      return { boolValue: t[1] };
    case 'i':
      return { intValue: BigInt(t[1]) };
    case 'd': {
      const d = t[1];
      return { doubleValue: typeof d === 'number' ? d : d === 'Inf' ? Infinity : d === '-Inf' ? -Infinity : d === '-0' ? -0 : NaN };
    }
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

/** JSON of the type info of a non-string value ('' for strings). */
export function typeJson(v: AnyValue, s: string): string {
  if ('stringValue' in v) return '';
  if ('boolValue' in v) return '"b"';
  if ('intValue' in v) return '"i"';
  if ('doubleValue' in v) return Object.is(Number(s), v.doubleValue) ? '"d"' : JSON.stringify(toTyped(v));
  if ('bytesValue' in v) return '"y"';
  if ('arrayValue' in v || 'kvlistValue' in v) {
    const j = JSON.stringify(toTyped(v));
    return j.indexOf('$') < 0 ? j : j.replace(/\$/g, '\\u0024');
  }
  return '"e"';
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

interface EncodedAttrs {
  /** The map as a JSON object. */
  readonly json: string;
  /** `{"key":type,...}` for non-string values; '' when every value is a string. */
  readonly types: string;
}
const EMPTY_ATTRS: EncodedAttrs = { json: '{}', types: '' };

export function encodeAttrs(attrs: readonly KeyValue[]): EncodedAttrs {
  const n = attrs.length;
  if (n === 0) return EMPTY_ATTRS;
  let json = '{';
  let types = '';
  for (let i = 0; i < n; i++) {
    const kv = attrs[i]!;
    const v = kv.value;
    const key = jsKey(kv.key);
    let s: string;
    if ('stringValue' in v) {
      s = v.stringValue;
      json += (i > 0 ? ',' : '') + key + ':' + js(s);
      continue;
    }
    s = anyValueString(v);
    json += (i > 0 ? ',' : '') + key + ':' + js(s);
    types += (types === '' ? '{' : ',') + key + ':' + typeJson(v, s);
  }
  return { json: json + '}', types: types === '' ? '' : types + '}' };
}

function decodeAttrs(pairs: readonly [string, string][], types: Record<string, TypeInfo> | undefined): KeyValue[] {
  const out: KeyValue[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [key, s] = pairs[i]!;
    out[i] = { key, value: decodeValue(s, types?.[key]) };
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Extra (what the Collector's columns lose)
// ------------------------------------------------------------------------------------------------

interface OwnerExtra {
  /** dropped attributes count */
  d?: number;
  /** attribute types */
  t?: Record<string, TypeInfo>;
}

interface ItemExtra {
  d?: number;
  t?: Record<string, TypeInfo>;
  /** link flags */
  f?: number;
  /** event time (ns) beyond DateTime64's range */
  x?: string;
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
  /** resource / scope */
  r?: OwnerExtra;
  s?: OwnerExtra;
  ev?: (ItemExtra | 0)[];
  lk?: (ItemExtra | 0)[];
}

// ------------------------------------------------------------------------------------------------
// Dictionaries sent once per INSERT: owners (tenant + resource + scope) and key sets
// ------------------------------------------------------------------------------------------------

/**
 * Owner tuple as the INSERT's JSONExtract reads it:
 * (Tenant, ServiceName, ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion,
 *  ScopeAttributes, ScopeSchemaUrl, owner part of Extra).
 */
export const OWNER_TYPE =
  'Array(Tuple(String, String, Map(String, String), String, String, String, Map(String, String), String, String))';

/**
 * Key set tuple: the ordered attribute keys of a span and the Extra part giving their types
 * (`"at":{…}` or ''). Rows carry only the values; the INSERT rebuilds the map.
 */
export const KEYSET_TYPE = 'Array(Tuple(Array(String), String))';

/**
 * Assigns stable ids to dictionary entries (owners, key sets), so that rows can be encoded once,
 * when they are written, and batched later with the entries they refer to.
 */
export class Dictionary {
  private ids = new Map<string, number>();
  private next = 1;

  /** The id of this entry (assigned on first sight). */
  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      if (this.ids.size >= 20_000) this.ids = new Map(); // ids are never reused; old ones stay valid
      id = this.next++;
      this.ids.set(key, id);
    }
    return id;
  }
}

export interface Dictionaries {
  readonly owners: Dictionary;
  readonly keysets: Dictionary;
}

export function newDictionaries(): Dictionaries {
  return { owners: new Dictionary(), keysets: new Dictionary() };
}

/** The owner tuple (see OWNER_TYPE) of spans of this tenant, resource and scope. */
export function ownerJsonOf(tenantJson: string, resource: Resource, resourceSchemaUrl: string, scope: InstrumentationScope, scopeSchemaUrl: string): string {
  const res = encodeAttrs(resource.attributes);
  let service = '';
  for (const kv of resource.attributes) {
    if (kv.key === 'service.name' && 'stringValue' in kv.value) {
      service = kv.value.stringValue;
      break;
    }
  }
  const resExtra = ownerExtraJson('r', resource.droppedAttributesCount, res.types);
  const sc = encodeAttrs(scope.attributes);
  const scExtra = ownerExtraJson('s', scope.droppedAttributesCount, sc.types);
  const extra = resExtra && scExtra ? resExtra + ',' + scExtra : resExtra || scExtra;
  return (
    '[' + tenantJson + ',' + js(service) + ',' + res.json + ',' + js(resourceSchemaUrl) + ',' +
    js(scope.name) + ',' + js(scope.version) + ',' + sc.json + ',' + js(scopeSchemaUrl) + ',' + js(extra) + ']'
  );
}

function ownerExtraJson(key: string, dropped: number, types: string): string {
  if (!dropped && !types) return '';
  let o = '"' + key + '":{';
  if (dropped) o += '"d":' + dropped;
  if (types) o += (dropped ? ',' : '') + '"t":' + types;
  return o + '}';
}

// ------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------

/** The largest time DateTime64(9) holds (Int64 nanoseconds). */
export const MAX_NS = 9_223_372_036_854_775_807n;

const HEX_RE = /^[0-9a-f]+$/;
function checkId(id: string, len: number, what: string): void {
  if (id.length !== len || !HEX_RE.test(id)) throw new PermanentError(`invalid ${what} ${JSON.stringify(id)}: expected ${len} lowercase hex digits`);
}

/**
 * The input structure of the rows (JSONCompactEachRow) of one INSERT: owner id, key set id,
 * flags, start ns, ids, trace state, name, kind, duration ns, attribute values, status, events,
 * links, and the rest of Extra (without braces).
 */
export const ROW_STRUCTURE = [
  'o UInt32',
  'k UInt32',
  'f UInt32',
  'ts Int64',
  'tid String',
  'sid String',
  'pid String',
  'tst String',
  'name String',
  'kind UInt8',
  'dur UInt64',
  'av Array(String)',
  'sc UInt8',
  'sm String',
  'ets Array(Int64)',
  'en Array(String)',
  'ea Array(Map(String, String))',
  'ltid Array(String)',
  'lsid Array(String)',
  'lts Array(String)',
  'la Array(Map(String, String))',
  'x String',
].join(', ');

export interface EncodedRows {
  /** JSONCompactEachRow lines, each ending with '\n' (heredoc-safe). */
  readonly body: string;
  readonly rows: number;
  /** Owner id → owner JSON (heredoc-safe) for every owner the rows refer to. */
  readonly owners: Map<number, string>;
  /** Key set id → key set JSON (heredoc-safe). */
  readonly keysets: Map<number, string>;
  /**
   * Attribute keys found outside the search index (resource, scope, link attributes), as
   * `source \0 key`: the search learns from them where to look (see schema T.attributeKeys).
   */
  readonly attrKeys: Set<string>;
}

/** Records the keys of non-indexed attributes (resource, scope, link) in `into`. */
export function noteKeys(into: Set<string>, source: 'resource' | 'scope' | 'link', attrs: readonly KeyValue[]): void {
  for (const kv of attrs) into.add(source + '\u0000' + kv.key);
}

/**
 * Encodes every span of `rs` for `tenant`. Throws PermanentError, before anything is written,
 * on data that cannot be stored (malformed ids).
 */
export function encodeRows(rs: readonly ResourceSpans[], tenant: string, dicts: Dictionaries): EncodedRows {
  let body = '';
  let rows = 0;
  const owners = new Map<number, string>();
  const keysets = new Map<number, string>();
  const attrKeys = new Set<string>();
  const tenantJson = js(tenant);
  for (const r of rs) {
    for (const ss of r.scopeSpans) {
      if (ss.spans.length === 0) continue;
      noteKeys(attrKeys, 'resource', r.resource.attributes);
      noteKeys(attrKeys, 'scope', ss.scope.attributes);
      const ownerJson = ownerJsonOf(tenantJson, r.resource, r.schemaUrl, ss.scope, ss.schemaUrl);
      const id = dicts.owners.id(ownerJson);
      owners.set(id, ownerJson);
      const prefix = '[' + id + ',';
      for (const span of ss.spans) {
        body += encodeSpan(span, prefix, dicts.keysets, keysets);
        for (const l of span.links) noteKeys(attrKeys, 'link', l.attributes);
        rows++;
      }
    }
  }
  return { body, rows, owners, keysets, attrKeys };
}

export const EMPTY_KEYSET = '[[],""]';

function encodeSpan(s: Span, prefix: string, dict: Dictionary, keysets: Map<number, string>): string {
  checkId(s.traceId, 32, 'trace id');
  checkId(s.spanId, 16, 'span id');
  if (s.parentSpanId !== '') checkId(s.parentSpanId, 16, 'parent span id');
  let x = '';
  if (s.droppedAttributesCount) x += ',"ad":' + s.droppedAttributesCount;
  if (s.droppedEventsCount) x += ',"ed":' + s.droppedEventsCount;
  if (s.droppedLinksCount) x += ',"ld":' + s.droppedLinksCount;
  let kind: number = s.kind;
  if (!(kind >= 0 && kind <= 5)) {
    x += ',"k":' + kind;
    kind = 0;
  }
  let code: number = s.status.code;
  if (!(code >= 0 && code <= 2)) {
    x += ',"c":' + code;
    code = 0;
  }
  let start = s.startTimeUnixNano;
  let dur = s.endTimeUnixNano - start;
  if (start > MAX_NS) {
    x += ',"xs":"' + start + '"';
    start = MAX_NS;
    dur = -1n;
  }
  if (dur < 0n || dur > MAX_NS) {
    x += ',"x":"' + s.endTimeUnixNano + '"';
    dur = dur < 0n ? 0n : MAX_NS;
  }

  // Attributes: values here, keys (and simple types) in the key set.
  const attrs = s.attributes;
  const na = attrs.length;
  let vals = '[';
  let sig = '';
  let keys = '[';
  let types = '';
  let complex = '';
  for (let i = 0; i < na; i++) {
    const kv = attrs[i]!;
    const v = kv.value;
    const key = jsKey(kv.key);
    const sep = i > 0 ? ',' : '';
    keys += sep + key;
    if ('stringValue' in v) {
      vals += sep + js(v.stringValue);
      sig += kv.key + '\u0000';
      continue;
    }
    const str = anyValueString(v);
    vals += sep + js(str);
    const t = typeJson(v, str);
    if (t.length === 3) {
      // a one-letter tag: part of the key set
      types += (types === '' ? '' : ',') + key + ':' + t;
      sig += kv.key + '\u0001' + t;
    } else {
      complex += (complex === '' ? '' : ',') + key + ':' + t;
      sig += kv.key + '\u0002';
    }
  }
  vals += ']';
  let k = 0;
  if (na > 0) {
    if (complex === '') {
      k = dict.id(sig);
      if (!keysets.has(k)) keysets.set(k, '[' + keys + '],' + js(types === '' ? '' : '"at":{' + types + '}') + ']');
    } else {
      // complex values: the full typed value in the row's Extra; the key set holds no types then
      x += ',"at":{' + (types === '' ? '' : types + ',') + complex + '}';
      k = dict.id(sig + '\u0003');
      if (!keysets.has(k)) keysets.set(k, '[' + keys + '],""]');
    }
  } else if (!keysets.has(0)) {
    keysets.set(0, EMPTY_KEYSET);
  }

  let ev = '[],[],[]';
  const ne = s.events.length;
  if (ne > 0) {
    let ts = '[';
    let names = '[';
    let as = '[';
    let evx = '';
    let anyEvx = false;
    for (let i = 0; i < ne; i++) {
      const e = s.events[i]!;
      const sep = i > 0 ? ',' : '';
      let t = e.timeUnixNano;
      let ix = '';
      if (t > MAX_NS) {
        ix += '"x":"' + t + '"';
        t = MAX_NS;
      }
      ts += sep + '"' + t + '"';
      names += sep + js(e.name);
      const a = encodeAttrs(e.attributes);
      as += sep + a.json;
      if (e.droppedAttributesCount) ix += (ix ? ',' : '') + '"d":' + e.droppedAttributesCount;
      if (a.types) ix += (ix ? ',' : '') + '"t":' + a.types;
      if (ix) anyEvx = true;
      evx += sep + (ix ? '{' + ix + '}' : '0');
    }
    ev = ts + '],' + names + '],' + as + ']';
    if (anyEvx) x += ',"ev":[' + evx + ']';
  }
  let lk = '[],[],[],[]';
  const nl = s.links.length;
  if (nl > 0) {
    let tids = '[';
    let sids = '[';
    let states = '[';
    let as = '[';
    let lkx = '';
    let anyLkx = false;
    for (let i = 0; i < nl; i++) {
      const l = s.links[i]!;
      checkId(l.traceId, 32, 'link trace id');
      checkId(l.spanId, 16, 'link span id');
      const sep = i > 0 ? ',' : '';
      tids += sep + '"' + l.traceId + '"';
      sids += sep + '"' + l.spanId + '"';
      states += sep + js(l.traceState);
      const a = encodeAttrs(l.attributes);
      as += sep + a.json;
      let ix = '';
      if (l.droppedAttributesCount) ix += '"d":' + l.droppedAttributesCount;
      if (a.types) ix += (ix ? ',' : '') + '"t":' + a.types;
      if (l.flags) ix += (ix ? ',' : '') + '"f":' + l.flags;
      if (ix) anyLkx = true;
      lkx += sep + (ix ? '{' + ix + '}' : '0');
    }
    lk = tids + '],' + sids + '],' + states + '],' + as + ']';
    if (anyLkx) x += ',"lk":[' + lkx + ']';
  }
  return (
    prefix +
    k +
    ',' +
    (s.flags >>> 0) +
    ',"' +
    start +
    '","' +
    s.traceId +
    '","' +
    s.spanId +
    '","' +
    s.parentSpanId +
    '",' +
    (s.traceState === '' ? '""' : js(s.traceState)) +
    ',' +
    js(s.name) +
    ',' +
    kind +
    ',"' +
    dur +
    '",' +
    vals +
    ',' +
    code +
    ',' +
    (s.status.message === '' ? '""' : js(s.status.message)) +
    ',' +
    ev +
    ',' +
    lk +
    ',' +
    (x === '' ? '""' : js(x.slice(1))) +
    ']\n'
  );
}

// ------------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------------

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
  // Resource and scope attributes as JSON text: the decoder parses each distinct text once.
  "toJSONString(CAST(ResourceAttributes, 'Array(Tuple(String, String))'))",
  'ResourceSchemaUrl',
  'ScopeName',
  'ScopeVersion',
  "toJSONString(CAST(ScopeAttributes, 'Array(Tuple(String, String))'))",
  'ScopeSchemaUrl',
  "CAST(SpanAttributes, 'Array(Tuple(String, String))')",
  'toString(Duration)',
  'StatusCode',
  'StatusMessage',
  'arrayMap(x -> toString(toUnixTimestamp64Nano(x)), `Events.Timestamp`)',
  '`Events.Name`',
  "arrayMap(m -> CAST(m, 'Array(Tuple(String, String))'), `Events.Attributes`)",
  '`Links.TraceId`',
  '`Links.SpanId`',
  '`Links.TraceState`',
  "arrayMap(m -> CAST(m, 'Array(Tuple(String, String))'), `Links.Attributes`)",
  'Extra',
].join(', ');

type Pairs = [string, string][];

/** One row as `SELECT_COLUMNS` gives it in JSONCompactEachRow. */
export type RawRow = [
  string, // 0 start ns
  string, // 1 trace id
  string, // 2 span id
  string, // 3 parent span id
  string, // 4 trace state
  string, // 5 name
  string, // 6 kind
  string, // 7 service
  string, // 8 resource attributes (JSON text of Pairs)
  string, // 9 resource schema url
  string, // 10 scope name
  string, // 11 scope version
  string, // 12 scope attributes (JSON text of Pairs)
  string, // 13 scope schema url
  Pairs, // 14 span attributes
  string, // 15 duration ns
  string, // 16 status code
  string, // 17 status message
  string[], // 18 event times
  string[], // 19 event names
  Pairs[], // 20 event attributes
  string[], // 21 link trace ids
  string[], // 22 link span ids
  string[], // 23 link trace states
  Pairs[], // 24 link attributes
  string, // 25 extra
];

export interface DecodedRow {
  readonly span: Span;
  /** Shared by the rows of one decoder with an equal resource and resource schema URL. */
  readonly resource: Resource;
  readonly resourceSchemaUrl: string;
  /** Shared by the rows of one decoder with an equal scope and scope schema URL. */
  readonly scope: InstrumentationScope;
  readonly scopeSchemaUrl: string;
}

const KIND_NUM: Record<string, number> = { Unspecified: 0, Internal: 1, Server: 2, Client: 3, Producer: 4, Consumer: 5 };
const STATUS_NUM: Record<string, number> = { Unset: 0, Ok: 1, Error: 2 };

interface ParsedExtra {
  readonly x: Extra;
  /** The resource's and scope's part of the Extra, as cache-key suffixes. */
  readonly rKey: string;
  readonly sKey: string;
}
const NO_EXTRA: ParsedExtra = { x: {}, rKey: '', sKey: '' };

/**
 * Decodes the rows of one answer. The resource and scope of a span repeat in every row (often
 * 1 KB of attributes for thousands of spans): each distinct one is decoded once and shared by its
 * rows, and so is each distinct `Extra` text.
 */
export class RowDecoder {
  private readonly extras = new Map<string, ParsedExtra>();
  private readonly resources = new Map<string, Map<string, Resource>>();
  private readonly scopes = new Map<string, InstrumentationScope>();

  private extra(text: string): ParsedExtra {
    if (text === '') return NO_EXTRA;
    let e = this.extras.get(text);
    if (e === undefined) {
      const x = JSON.parse(text) as Extra;
      e = { x, rKey: x.r ? JSON.stringify(x.r) : '', sKey: x.s ? JSON.stringify(x.s) : '' };
      this.extras.set(text, e);
    }
    return e;
  }

  decode(r: RawRow): DecodedRow {
    const px = this.extra(r[25]);
    const extra = px.x;
    const start = extra.xs !== undefined ? BigInt(extra.xs) : BigInt(r[0]);
    const end = extra.x !== undefined ? BigInt(extra.x) : start + BigInt(r[15]);
    const events: SpanEvent[] = new Array(r[18].length);
    for (let i = 0; i < events.length; i++) {
      const x = extra.ev?.[i] || undefined;
      events[i] = {
        timeUnixNano: x?.x !== undefined ? BigInt(x.x) : BigInt(r[18][i]!),
        name: r[19][i]!,
        attributes: decodeAttrs(r[20][i]!, x?.t),
        droppedAttributesCount: x?.d ?? 0,
      };
    }
    const links: SpanLink[] = new Array(r[21].length);
    for (let i = 0; i < links.length; i++) {
      const x = extra.lk?.[i] || undefined;
      links[i] = {
        traceId: r[21][i]! as TraceId,
        spanId: r[22][i]! as SpanId,
        traceState: r[23][i]!,
        attributes: decodeAttrs(r[24][i]!, x?.t),
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
      attributes: decodeAttrs(r[14], extra.at),
      droppedAttributesCount: extra.ad ?? 0,
      events,
      droppedEventsCount: extra.ed ?? 0,
      links,
      droppedLinksCount: extra.ld ?? 0,
      status: { code: (extra.c ?? STATUS_NUM[r[16]] ?? 0) as StatusCode, message: r[17] },
    };
    // Keys: the texts as the engine wrote them; free text with its length, so that keys are unambiguous.
    const rk = r[9].length + ':' + r[9] + px.rKey;
    let byAttrs = this.resources.get(r[8]);
    if (byAttrs === undefined) this.resources.set(r[8], (byAttrs = new Map()));
    let resource = byAttrs.get(rk);
    if (resource === undefined) {
      const rx = extra.r;
      resource = { attributes: decodeAttrs(JSON.parse(r[8]) as Pairs, rx?.t), droppedAttributesCount: rx?.d ?? 0 };
      byAttrs.set(rk, resource);
    }
    const sk = r[10].length + ':' + r[10] + r[11].length + ':' + r[11] + r[13].length + ':' + r[13] + r[12] + px.sKey;
    let scope = this.scopes.get(sk);
    if (scope === undefined) {
      const sx = extra.s;
      scope = { name: r[10], version: r[11], attributes: decodeAttrs(JSON.parse(r[12]) as Pairs, sx?.t), droppedAttributesCount: sx?.d ?? 0 };
      this.scopes.set(sk, scope);
    }
    return { span, resource, resourceSchemaUrl: r[9], scope, scopeSchemaUrl: r[13] };
  }
}

/**
 * Groups decoded rows (of one trace, or any set, from one RowDecoder) into ResourceSpans /
 * ScopeSpans: by the decoder's shared resource and scope objects, which stand for their content.
 */
export function groupRows(rows: readonly DecodedRow[]): ResourceSpans[] {
  const byResource = new Map<Resource, { resource: Resource; schemaUrl: string; scopes: Map<InstrumentationScope, ScopeSpans & { spans: Span[] }> }>();
  for (const d of rows) {
    let g = byResource.get(d.resource);
    if (!g) {
      g = { resource: d.resource, schemaUrl: d.resourceSchemaUrl, scopes: new Map() };
      byResource.set(d.resource, g);
    }
    let sc = g.scopes.get(d.scope);
    if (!sc) {
      sc = { scope: d.scope, spans: [], schemaUrl: d.scopeSchemaUrl };
      g.scopes.set(d.scope, sc);
    }
    sc.spans.push(d.span);
  }
  const out: ResourceSpans[] = [];
  for (const g of byResource.values()) out.push({ resource: g.resource, scopeSpans: [...g.scopes.values()], schemaUrl: g.schemaUrl });
  return out;
}
