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
 * Write format (see docs/storage.md, "Write path"): RowBinary rows (rowbinary.ts) that carry only
 * what is span-specific. The resource and scope of a span (often 1 KB of
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
import { BinOut } from './rowbinary.js';

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

function encodeAttrs(attrs: readonly KeyValue[]): EncodedAttrs {
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
 * The structure of the rows (RowBinary) of one INSERT: owner id, key set id, start ns, ids, name,
 * kind, duration ns, status code, attribute values, flags, trace state, status message, events,
 * links, and the rest of Extra (without braces). What a decoded request's span table holds comes
 * first, then the attribute values, which the fast path writes as it scans the span (rows-proto.ts):
 * the key set id and the values' count (`len3At`) are filled in after.
 */
export const ROW_STRUCTURE = [
  'o UInt32',
  'k UInt32',
  'ts Int64',
  'tid String',
  'sid String',
  'pid String',
  'name String',
  'kind UInt8',
  'dur UInt64',
  'sc UInt8',
  'av Array(String)',
  'f UInt32',
  'tst String',
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
  /**
   * RowBinary rows of ROW_STRUCTURE, in chunks: the embedded engine reads them from a file as they
   * are; the statement form turns them into JSON text (`rowBinaryToJson`).
   */
  readonly body: readonly Buffer[];
  /** Bytes in `body`. */
  readonly bytes: number;
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
  const out = new BinOut(4096);
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
      for (const span of ss.spans) {
        encodeSpan(out, span, id, dicts.keysets, keysets);
        for (const l of span.links) noteKeys(attrKeys, 'link', l.attributes);
        rows++;
      }
    }
  }
  const bytes = Buffer.from(out.buf.subarray(0, out.pos));
  return { body: [bytes], bytes: bytes.length, rows, owners, keysets, attrKeys };
}

export const EMPTY_KEYSET = '[[],""]';

function encodeSpan(out: BinOut, s: Span, owner: number, dict: Dictionary, keysets: Map<number, string>): void {
  checkId(s.traceId, 32, 'trace id');
  checkId(s.spanId, 16, 'span id');
  if (s.parentSpanId !== '') checkId(s.parentSpanId, 16, 'parent span id');
  for (const l of s.links) {
    checkId(l.traceId, 32, 'link trace id');
    checkId(l.spanId, 16, 'link span id');
  }
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
  const attrs = s.attributes;
  const na = attrs.length;
  if (na >= 0x200000) throw new PermanentError(`a span with ${na} attributes: at most ${0x200000 - 1} are stored`);

  // o, k, ts, tid, sid, pid, name, kind, dur, sc, av, f, tst, sm, events…, links…, x (ROW_STRUCTURE)
  out.u32(owner);
  const kAt = out.reserve(4);
  out.big(start);
  out.str(s.traceId);
  out.str(s.spanId);
  out.str(s.parentSpanId);
  out.str(s.name);
  out.u8(kind);
  out.big(dur);
  out.u8(code);
  out.len3At(out.reserve(3), na);

  // Attributes: values in the row, keys (and simple types) in the key set.
  let sig = '';
  let keys = '[';
  let types = '';
  let complex = '';
  for (let i = 0; i < na; i++) {
    const kv = attrs[i]!;
    const v = kv.value;
    const key = jsKey(kv.key);
    keys += (i > 0 ? ',' : '') + key;
    if ('stringValue' in v) {
      out.str(v.stringValue);
      sig += kv.key + '\u0000';
      continue;
    }
    const str = anyValueString(v);
    out.str(str);
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
  out.u32At(kAt, k);
  out.u32(s.flags >>> 0);
  out.str(s.traceState);
  out.str(s.status.message);
  x += writeEventsLinks(out, s.events, s.links);
  out.str(x === '' ? '' : x.slice(1));
}

const NONE: readonly never[] = [];

/**
 * Writes the event and link columns of a span (ets, en, ea, ltid, lsid, lts, la); returns what
 * they add to its Extra (`,"ev":[…]`, `,"lk":[…]`) or ''. Shared by both row encoders.
 */
export function writeEventsLinks(out: BinOut, events: readonly SpanEvent[] = NONE, links: readonly SpanLink[] = NONE): string {
  let x = '';
  const ne = events.length;
  out.len(ne);
  for (let i = 0; i < ne; i++) {
    const t = events[i]!.timeUnixNano;
    out.big(t > MAX_NS ? MAX_NS : t);
  }
  out.len(ne);
  for (let i = 0; i < ne; i++) out.str(events[i]!.name);
  out.len(ne);
  if (ne > 0) {
    let evx = '';
    let any = false;
    for (let i = 0; i < ne; i++) {
      const e = events[i]!;
      const types = writeAttrs(out, e.attributes);
      let ix = '';
      if (e.timeUnixNano > MAX_NS) ix += '"x":"' + e.timeUnixNano + '"';
      if (e.droppedAttributesCount) ix += (ix ? ',' : '') + '"d":' + e.droppedAttributesCount;
      if (types) ix += (ix ? ',' : '') + '"t":' + types;
      if (ix) any = true;
      evx += (i > 0 ? ',' : '') + (ix ? '{' + ix + '}' : '0');
    }
    if (any) x += ',"ev":[' + evx + ']';
  }
  const nl = links.length;
  out.len(nl);
  for (let i = 0; i < nl; i++) out.str(links[i]!.traceId);
  out.len(nl);
  for (let i = 0; i < nl; i++) out.str(links[i]!.spanId);
  out.len(nl);
  for (let i = 0; i < nl; i++) out.str(links[i]!.traceState);
  out.len(nl);
  if (nl > 0) {
    let lkx = '';
    let any = false;
    for (let i = 0; i < nl; i++) {
      const l = links[i]!;
      const types = writeAttrs(out, l.attributes);
      let ix = '';
      if (l.droppedAttributesCount) ix += '"d":' + l.droppedAttributesCount;
      if (types) ix += (ix ? ',' : '') + '"t":' + types;
      if (l.flags) ix += (ix ? ',' : '') + '"f":' + l.flags;
      if (ix) any = true;
      lkx += (i > 0 ? ',' : '') + (ix ? '{' + ix + '}' : '0');
    }
    if (any) x += ',"lk":[' + lkx + ']';
  }
  return x;
}

/** Writes attributes as a Map(String, String); returns their types (`{"key":type,…}`), or '' when every value is a string. */
function writeAttrs(out: BinOut, attrs: readonly KeyValue[]): string {
  const n = attrs.length;
  out.len(n);
  let types = '';
  for (let i = 0; i < n; i++) {
    const kv = attrs[i]!;
    const v = kv.value;
    out.str(kv.key);
    if ('stringValue' in v) {
      out.str(v.stringValue);
      continue;
    }
    const s = anyValueString(v);
    out.str(s);
    types += (types === '' ? '{' : ',') + jsKey(kv.key) + ':' + typeJson(v, s);
  }
  return types === '' ? '' : types + '}';
}

// ------------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------------

/**
 * The rows of a `JSONCompactEachRow` answer, parsed at once as an array of its lines (one row each:
 * JSON strings hold no raw newline): the client's row-by-row parse took 0.72 instead of 0.30 ms for
 * the 20 rows of a search's ids. A server that fails after it has begun to answer appends its error
 * to the rows: that error is raised, with its ClickHouse code.
 */
export function compactRows<R>(text: string): R[] {
  if (text === '') return [];
  try {
    return JSON.parse(`[${text.trimEnd().replaceAll('\n', ',')}]`) as R[];
  } catch {
    const tail = text.slice(-1000);
    const code = /\bCode: (\d+)\./.exec(tail)?.[1];
    throw Object.assign(new Error(`unreadable rows in the answer, which ends: ${tail.trim()}`), code !== undefined ? { code } : {});
  }
}

/**
 * SELECT list that `RowDecoder` reads, in RowBinary: the stored columns as they are. At 10M spans
 * a 344-row search fetch took 23.8 ms in the engine + 2.3 ms to decode (p50) instead of 29.1 +
 * 3.3 ms as JSONCompactEachRow, whose conversions (64-bit values as strings, maps as pair arrays
 * and JSON text) and formatting cost the engine more than the bytes JS then reads itself.
 *
 * Extra comes first: it holds the types the attributes decode with. The resource's columns
 * (ResourceAttributes, ResourceSchemaUrl) and the scope's (ScopeName … ScopeSchemaUrl) are
 * adjacent, so that their bytes, one slice each, are the keys of the decoder's caches.
 * ServiceName and Tenant are not read (the resource holds service.name).
 */
export const SELECT_COLUMNS = [
  'Extra', // LowCardinality(String)
  'Timestamp', // DateTime64(9): Int64 ns
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ResourceAttributes', // Map(LowCardinality(String), LowCardinality(String))
  'ResourceSchemaUrl',
  'ScopeName',
  'ScopeVersion',
  'ScopeAttributes', // Map(LowCardinality(String), String)
  'ScopeSchemaUrl',
  'SpanAttributes',
  'Duration', // UInt64
  'StatusCode',
  'StatusMessage',
  '`Events.Timestamp`', // Array(DateTime64(9))
  '`Events.Name`',
  '`Events.Attributes`', // Array(Map(LowCardinality(String), String))
  '`Links.TraceId`',
  '`Links.SpanId`',
  '`Links.TraceState`',
  '`Links.Attributes`',
].join(', ');

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

/** The error of an answer that is not the RowBinary of SELECT_COLUMNS. */
function malformed(what: string, at: number): Error {
  return new Error(`malformed RowBinary answer: ${what} at byte ${at}`);
}

/**
 * Short ASCII strings seen lately (attribute keys, repeated values), direct-mapped by a hash of
 * their bytes: a hit is checked byte by byte and costs no native call and no new string.
 */
const SHORT_SLOTS = 4096;
const SHORT_MAX = 40;
const shortStrings: (string | undefined)[] = new Array(SHORT_SLOTS).fill(undefined);

/** A cursor over one RowBinary answer. */
class Reader {
  p = 0;
  constructor(private readonly b: Buffer) {}

  get done(): boolean {
    return this.p >= this.b.length;
  }

  /** A LEB128 length (string bytes, array and map items). */
  len(): number {
    const b = this.b;
    let p = this.p;
    if (p >= b.length) throw malformed('truncated length', p);
    let x = b[p++]!;
    if (x >= 0x80) {
      let n = x & 0x7f;
      let mul = 0x80;
      do {
        if (p >= b.length || mul > 2 ** 49) throw malformed('bad length', p);
        x = b[p++]!;
        n += (x & 0x7f) * mul;
        mul *= 0x80;
      } while (x >= 0x80);
      x = n;
    }
    this.p = p;
    return x;
  }

  /** The end of `n` more bytes (checked). */
  private end(n: number): number {
    const e = this.p + n;
    if (e > this.b.length) throw malformed('truncated value', this.p);
    return e;
  }

  str(): string {
    const n = this.len();
    if (n === 0) return '';
    const a = this.p;
    this.p = this.end(n);
    return this.b.toString('utf8', a, this.p);
  }

  /** A string that often repeats (see shortStrings). */
  common(): string {
    const n = this.len();
    if (n === 0) return '';
    const a = this.p;
    const e = this.end(n);
    this.p = e;
    if (n > SHORT_MAX) return this.b.toString('utf8', a, e);
    const b = this.b;
    let h = n;
    let high = 0;
    for (let i = a; i < e; i++) {
      const c = b[i]!;
      high |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (high >= 0x80) return this.b.toString('utf8', a, e);
    const slot = (h ^ (h >>> 15)) & (SHORT_SLOTS - 1);
    const hit = shortStrings[slot];
    if (hit !== undefined && hit.length === n) {
      let i = 0;
      while (i < n && hit.charCodeAt(i) === b[a + i]) i++;
      if (i === n) return hit;
    }
    const s = b.toString('latin1', a, e);
    shortStrings[slot] = s;
    return s;
  }

  skipStr(): void {
    this.p = this.end(this.len());
  }

  i64(): bigint {
    const a = this.p;
    this.p = this.end(8);
    return this.b.readBigInt64LE(a);
  }

  u64(): bigint {
    const a = this.p;
    this.p = this.end(8);
    return this.b.readBigUInt64LE(a);
  }

  /** The bytes since `a`, as a string of one char per byte (a cheap, exact Map key). */
  key(a: number): string {
    return this.b.toString('latin1', a, this.p);
  }

  /** A Map(String, String) as attributes. */
  attrs(types: Record<string, TypeInfo> | undefined): KeyValue[] {
    const n = this.len();
    const out: KeyValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const key = this.common();
      out[i] = { key, value: decodeValue(this.common(), types?.[key]) };
    }
    return out;
  }

  skipMap(): void {
    for (let n = this.len() * 2; n > 0; n--) this.skipStr();
  }

  strs(): string[] {
    const n = this.len();
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.str();
    return out;
  }
}

/**
 * Decodes the RowBinary answers (of SELECT_COLUMNS) of one request. The resource and scope of a
 * span repeat in every row (often 1 KB of attributes for thousands of spans): each distinct one is
 * decoded once and shared by its rows, and so is each distinct `Extra` text.
 */
export class RowDecoder {
  /** The rows decoded so far, in the order of the answers and their rows. */
  readonly rows: DecodedRow[] = [];
  private readonly extras = new Map<string, ParsedExtra>();
  private readonly resources = new Map<string, { resource: Resource; url: string }>();
  private readonly scopes = new Map<string, { scope: InstrumentationScope; url: string }>();

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

  /** Forgets the rows of these traces (to be read again). */
  drop(traceIds: { has(id: string): boolean }): void {
    let j = 0;
    for (const row of this.rows) if (!traceIds.has(row.span.traceId)) this.rows[j++] = row;
    this.rows.length = j;
  }

  /** Adds the rows of one answer to `rows`. */
  decode(buf: Buffer): void {
    const r = new Reader(buf);
    while (!r.done) this.rows.push(this.row(r));
  }

  private row(r: Reader): DecodedRow {
    const px = this.extra(r.str());
    const extra = px.x;
    const ts = r.i64();
    const traceId = r.str() as TraceId;
    const spanId = r.str() as SpanId;
    const parentSpanId = r.str() as SpanId | '';
    const traceState = r.str();
    const name = r.str();
    const kind = r.str();
    // Keys: the columns' bytes, which delimit themselves (lengths first), then the Extra part.
    let a = r.p;
    r.skipMap();
    r.skipStr();
    const rk = r.key(a) + px.rKey;
    let res = this.resources.get(rk);
    if (res === undefined) {
      r.p = a;
      const rx = extra.r;
      res = { resource: { attributes: r.attrs(rx?.t), droppedAttributesCount: rx?.d ?? 0 }, url: r.str() };
      this.resources.set(rk, res);
    }
    a = r.p;
    r.skipStr();
    r.skipStr();
    r.skipMap();
    r.skipStr();
    const sk = r.key(a) + px.sKey;
    let sc = this.scopes.get(sk);
    if (sc === undefined) {
      r.p = a;
      const sx = extra.s;
      const scopeName = r.str();
      const scopeVersion = r.str();
      const attributes = r.attrs(sx?.t);
      sc = { scope: { name: scopeName, version: scopeVersion, attributes, droppedAttributesCount: sx?.d ?? 0 }, url: r.str() };
      this.scopes.set(sk, sc);
    }
    const attributes = r.attrs(extra.at);
    const dur = r.u64();
    const code = r.str();
    const message = r.str();

    const ne = r.len();
    const eventTimes: bigint[] = new Array(ne);
    for (let i = 0; i < ne; i++) eventTimes[i] = r.i64();
    const eventNames = r.strs();
    if (r.len() !== ne || eventNames.length !== ne) throw malformed('events of unequal lengths', r.p);
    const events: SpanEvent[] = new Array(ne);
    for (let i = 0; i < ne; i++) {
      const x = extra.ev?.[i] || undefined;
      events[i] = {
        timeUnixNano: x?.x !== undefined ? BigInt(x.x) : eventTimes[i]!,
        name: eventNames[i]!,
        attributes: r.attrs(x?.t),
        droppedAttributesCount: x?.d ?? 0,
      };
    }
    const linkTraceIds = r.strs();
    const linkSpanIds = r.strs();
    const linkStates = r.strs();
    const nl = linkTraceIds.length;
    if (r.len() !== nl || linkSpanIds.length !== nl || linkStates.length !== nl) throw malformed('links of unequal lengths', r.p);
    const links: SpanLink[] = new Array(nl);
    for (let i = 0; i < nl; i++) {
      const x = extra.lk?.[i] || undefined;
      links[i] = {
        traceId: linkTraceIds[i]! as TraceId,
        spanId: linkSpanIds[i]! as SpanId,
        traceState: linkStates[i]!,
        attributes: r.attrs(x?.t),
        droppedAttributesCount: x?.d ?? 0,
        flags: x?.f ?? 0,
      };
    }

    const start = extra.xs !== undefined ? BigInt(extra.xs) : ts;
    const span: Span = {
      traceId,
      spanId,
      traceState,
      parentSpanId,
      flags: extra.f ?? 0,
      name,
      kind: (extra.k ?? KIND_NUM[kind] ?? 0) as SpanKind,
      startTimeUnixNano: start,
      endTimeUnixNano: extra.x !== undefined ? BigInt(extra.x) : start + dur,
      attributes,
      droppedAttributesCount: extra.ad ?? 0,
      events,
      droppedEventsCount: extra.ed ?? 0,
      links,
      droppedLinksCount: extra.ld ?? 0,
      status: { code: (extra.c ?? STATUS_NUM[code] ?? 0) as StatusCode, message },
    };
    return { span, resource: res.resource, resourceSchemaUrl: res.url, scope: sc.scope, scopeSchemaUrl: sc.url };
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
