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
import { Traces } from './traces.js';
import { DecodeError, Reader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, utf8 } from './wire.js';
import { anyValueString } from './values.js';

/**
 * A compact, read-only view of a decoded `ExportTraceServiceRequest` (see
 * docs/adr/0002-pdata-representation.md). Decoding walks the request once, checks its structure,
 * and records per span a row of offsets and the fields the pipeline and storage index need
 * (ids, times, name, kind, status, scope/resource). Everything else stays in the request bytes and
 * is decoded only when asked for (`span(row)`, `ProtoTraces.resourceSpans()`).
 *
 * Retaining one buffer and one typed array per request, instead of ~20 small objects per span,
 * is what keeps ingest and the memory store fast: the garbage collector has almost nothing to trace.
 */

/** Row layout in `SpanTable.rows` (Uint32 words per span). */
const F_OFF = 0; // span message payload start
const F_END = 1; // span message payload end
const F_SCOPE = 2; // index into scopes
const F_TID = 3; // offset of the 16 trace id bytes
const F_SID = 4; // offset of the 8 span id bytes
const F_PID = 5; // offset of the 8 parent span id bytes; 0 = root
const F_NAME = 6; // offset of the name bytes
const F_NAMELEN = 7;
const F_KIND = 8;
const F_STATUS = 9;
const F_START_LO = 10;
const F_START_HI = 11;
const F_END_LO = 12;
const F_END_HI = 13;
export const ROW_WORDS = 14;

export interface ResourceInfo {
  /** Payload bounds of the Resource message; off = -1 when absent. */
  readonly off: number;
  readonly end: number;
  readonly schemaUrl: string;
  /** The `service.name` resource attribute ('' when absent). */
  readonly serviceName: string;
}

export interface ScopeInfo {
  readonly resource: number;
  /** Payload bounds of the InstrumentationScope message; off = -1 when absent. */
  readonly off: number;
  readonly end: number;
  readonly schemaUrl: string;
}

const MAX_DEPTH = 64;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

function hex(b: Uint8Array, off: number, n: number): string {
  let s = '';
  for (let i = off; i < off + n; i++) s += HEX[b[i]!];
  return s;
}

/** The decoded request: buffer + per-span rows. Shared (read-only) by every view over it. */
export class SpanTable {
  constructor(
    readonly buf: Uint8Array,
    /** Number of (valid) spans. */
    readonly n: number,
    readonly rows: Uint32Array,
    readonly resources: readonly ResourceInfo[],
    readonly scopes: readonly ScopeInfo[],
  ) {}

  serviceName(row: number): string {
    return this.resources[this.scopes[this.rows[row * ROW_WORDS + F_SCOPE]!]!.resource]!.serviceName;
  }
  scopeIndex(row: number): number {
    return this.rows[row * ROW_WORDS + F_SCOPE]!;
  }
  resourceIndex(row: number): number {
    return this.scopes[this.rows[row * ROW_WORDS + F_SCOPE]!]!.resource;
  }
  /** The trace id as a 16-character latin1 string: a cheap map key. */
  traceKey(row: number): string {
    const o = this.rows[row * ROW_WORDS + F_TID]!;
    return latin1(this.buf, o, 16);
  }
  /** True when rows a and b carry the same trace id. */
  sameTrace(a: number, b: number): boolean {
    const oa = this.rows[a * ROW_WORDS + F_TID]!;
    const ob = this.rows[b * ROW_WORDS + F_TID]!;
    const buf = this.buf;
    for (let i = 0; i < 16; i++) if (buf[oa + i] !== buf[ob + i]) return false;
    return true;
  }
  traceId(row: number): TraceId {
    return hex(this.buf, this.rows[row * ROW_WORDS + F_TID]!, 16) as TraceId;
  }
  spanId(row: number): SpanId {
    return hex(this.buf, this.rows[row * ROW_WORDS + F_SID]!, 8) as SpanId;
  }
  /** The span id as an 8-character latin1 string. */
  spanKey(row: number): string {
    return latin1(this.buf, this.rows[row * ROW_WORDS + F_SID]!, 8);
  }
  /** The parent span id as an 8-character latin1 string; '' for a root span. */
  parentKey(row: number): string {
    const o = this.rows[row * ROW_WORDS + F_PID]!;
    return o === 0 ? '' : latin1(this.buf, o, 8);
  }
  name(row: number): string {
    const o = this.rows[row * ROW_WORDS + F_NAME]!;
    return utf8(this.buf, o, o + this.rows[row * ROW_WORDS + F_NAMELEN]!);
  }
  /** Offset of the span name's UTF-8 bytes in `buf`. */
  nameOffset(row: number): number {
    return this.rows[row * ROW_WORDS + F_NAME]!;
  }
  nameLength(row: number): number {
    return this.rows[row * ROW_WORDS + F_NAMELEN]!;
  }
  /** Compares the span name with UTF-8 bytes without decoding it. */
  nameEquals(row: number, name: Uint8Array): boolean {
    const base = row * ROW_WORDS;
    const n = this.rows[base + F_NAMELEN]!;
    if (n !== name.length) return false;
    const o = this.rows[base + F_NAME]!;
    const b = this.buf;
    for (let i = 0; i < n; i++) if (b[o + i] !== name[i]) return false;
    return true;
  }
  kind(row: number): number {
    return this.rows[row * ROW_WORDS + F_KIND]!;
  }
  statusCode(row: number): number {
    return this.rows[row * ROW_WORDS + F_STATUS]!;
  }
  startHi(row: number): number {
    return this.rows[row * ROW_WORDS + F_START_HI]!;
  }
  startLo(row: number): number {
    return this.rows[row * ROW_WORDS + F_START_LO]!;
  }
  startNanos(row: number): bigint {
    const b = row * ROW_WORDS;
    return (BigInt(this.rows[b + F_START_HI]!) << 32n) | BigInt(this.rows[b + F_START_LO]!);
  }
  endNanos(row: number): bigint {
    const b = row * ROW_WORDS;
    return (BigInt(this.rows[b + F_END_HI]!) << 32n) | BigInt(this.rows[b + F_END_LO]!);
  }
  /** Start time in (approximate, float) milliseconds, for coarse ordering. */
  startMillis(row: number): number {
    const b = row * ROW_WORDS;
    return (this.rows[b + F_START_HI]! * 4294967296 + this.rows[b + F_START_LO]!) / 1e6;
  }
  /** end - start in nanoseconds; exact when below 2^53 ns (104 days). */
  durationNanos(row: number): number {
    const b = row * ROW_WORDS;
    const r = this.rows;
    return (r[b + F_END_HI]! - r[b + F_START_HI]!) * 4294967296 + (r[b + F_END_LO]! - r[b + F_START_LO]!);
  }

  resource(i: number): Resource {
    const info = this.resources[i]!;
    let attributes: KeyValue[] = [];
    let dropped = 0;
    if (info.off >= 0) {
      const r = new Reader(this.buf, info.off, info.end);
      attributes = [];
      while (r.pos < r.end) {
        const tag = r.uint32();
        const f = tag >>> 3;
        const wt = tag & 7;
        if (f === 1 && wt === WIRE_LEN) attributes.push(readKeyValue(r, r.lenEnd(), 0));
        else if (f === 2 && wt === WIRE_VARINT) dropped = r.uint32();
        else r.skip(wt);
      }
    }
    return { attributes, droppedAttributesCount: dropped };
  }

  scope(i: number): InstrumentationScope {
    const info = this.scopes[i]!;
    let name = '';
    let version = '';
    const attributes: KeyValue[] = [];
    let dropped = 0;
    if (info.off >= 0) {
      const r = new Reader(this.buf, info.off, info.end);
      while (r.pos < r.end) {
        const tag = r.uint32();
        const f = tag >>> 3;
        const wt = tag & 7;
        if (f === 1 && wt === WIRE_LEN) name = r.string();
        else if (f === 2 && wt === WIRE_LEN) version = r.string();
        else if (f === 3 && wt === WIRE_LEN) attributes.push(readKeyValue(r, r.lenEnd(), 0));
        else if (f === 4 && wt === WIRE_VARINT) dropped = r.uint32();
        else r.skip(wt);
      }
    }
    return { name, version, attributes, droppedAttributesCount: dropped };
  }

  /** Materialises one span of the object model. */
  span(row: number): Span {
    const base = row * ROW_WORDS;
    const rw = this.rows;
    const r = new Reader(this.buf, rw[base + F_OFF]!, rw[base + F_END]!);
    let traceState = '';
    let flags = 0;
    const attributes: KeyValue[] = [];
    let droppedAttributesCount = 0;
    const events: SpanEvent[] = [];
    let droppedEventsCount = 0;
    const links: SpanLink[] = [];
    let droppedLinksCount = 0;
    let statusMessage = '';
    while (r.pos < r.end) {
      const tag = r.uint32();
      const f = tag >>> 3;
      const wt = tag & 7;
      switch (f) {
        case 3:
          if (wt === WIRE_LEN) {
            traceState = r.string();
            continue;
          }
          break;
        case 9:
          if (wt === WIRE_LEN) {
            attributes.push(readKeyValue(r, r.lenEnd(), 0));
            continue;
          }
          break;
        case 10:
          if (wt === WIRE_VARINT) {
            droppedAttributesCount = r.uint32();
            continue;
          }
          break;
        case 11:
          if (wt === WIRE_LEN) {
            events.push(readEvent(r, r.lenEnd()));
            continue;
          }
          break;
        case 12:
          if (wt === WIRE_VARINT) {
            droppedEventsCount = r.uint32();
            continue;
          }
          break;
        case 13:
          if (wt === WIRE_LEN) {
            links.push(readLink(r, r.lenEnd()));
            continue;
          }
          break;
        case 14:
          if (wt === WIRE_VARINT) {
            droppedLinksCount = r.uint32();
            continue;
          }
          break;
        case 15:
          if (wt === WIRE_LEN) {
            const e = r.lenEnd();
            const end = r.end;
            r.end = e;
            while (r.pos < e) {
              const t2 = r.uint32();
              if (t2 === ((2 << 3) | WIRE_LEN)) statusMessage = r.string();
              else r.skip(t2 & 7);
            }
            r.end = end;
            continue;
          }
          break;
        case 16:
          if (wt === WIRE_I32) {
            flags = r.fixed32();
            continue;
          }
          break;
      }
      r.skip(wt);
    }
    const pid = rw[base + F_PID]!;
    return {
      traceId: this.traceId(row),
      spanId: this.spanId(row),
      traceState,
      parentSpanId: pid === 0 ? '' : (hex(this.buf, pid, 8) as SpanId),
      flags,
      name: this.name(row),
      kind: rw[base + F_KIND]! as SpanKind,
      startTimeUnixNano: this.startNanos(row),
      endTimeUnixNano: this.endNanos(row),
      attributes,
      droppedAttributesCount,
      events,
      droppedEventsCount,
      links,
      droppedLinksCount,
      status: { message: statusMessage, code: rw[base + F_STATUS]! as StatusCode },
    };
  }

  /**
   * True when every (key, value) of `want` is found, by string form, among the span's attributes,
   * its events', its links', its resource's or its scope's attributes.
   */
  matchesAttributes(row: number, want: ReadonlyMap<string, string>): boolean {
    if (want.size === 0) return true;
    const found = new Set<string>();
    const visit = (r: Reader, e: number): boolean => {
      // one KeyValue payload at r.pos..e
      const kv = readKeyValue(r, e, 0);
      const w = want.get(kv.key);
      if (w !== undefined && !found.has(kv.key) && anyValueString(kv.value) === w) {
        found.add(kv.key);
        return found.size === want.size;
      }
      return false;
    };
    const base = row * ROW_WORDS;
    const r = new Reader(this.buf, this.rows[base + F_OFF]!, this.rows[base + F_END]!);
    while (r.pos < r.end) {
      const tag = r.uint32();
      const f = tag >>> 3;
      const wt = tag & 7;
      if (wt !== WIRE_LEN || (f !== 9 && f !== 11 && f !== 13)) {
        r.skip(wt);
        continue;
      }
      const e = r.lenEnd();
      if (f === 9) {
        if (visit(r, e)) return true;
        continue;
      }
      // events (attributes = 3) and links (attributes = 4)
      const attrField = f === 11 ? 3 : 4;
      const outer = r.end;
      r.end = e;
      while (r.pos < e) {
        const t2 = r.uint32();
        if (t2 === ((attrField << 3) | WIRE_LEN)) {
          const e2 = r.lenEnd();
          if (visit(r, e2)) return true;
        } else r.skip(t2 & 7);
      }
      r.end = outer;
    }
    for (const kv of this.resource(this.resourceIndex(row)).attributes) {
      const w = want.get(kv.key);
      if (w !== undefined && !found.has(kv.key) && anyValueString(kv.value) === w) {
        found.add(kv.key);
        if (found.size === want.size) return true;
      }
    }
    for (const kv of this.scope(this.scopeIndex(row)).attributes) {
      const w = want.get(kv.key);
      if (w !== undefined && !found.has(kv.key) && anyValueString(kv.value) === w) {
        found.add(kv.key);
        if (found.size === want.size) return true;
      }
    }
    return false;
  }
}

function latin1(b: Uint8Array, off: number, n: number): string {
  // One flat one-byte string per key; cheaper than TextDecoder or concatenation for 8/16 bytes.
  if (n === 16) {
    return String.fromCharCode(
      b[off]!, b[off + 1]!, b[off + 2]!, b[off + 3]!, b[off + 4]!, b[off + 5]!, b[off + 6]!, b[off + 7]!,
      b[off + 8]!, b[off + 9]!, b[off + 10]!, b[off + 11]!, b[off + 12]!, b[off + 13]!, b[off + 14]!, b[off + 15]!,
    );
  }
  if (n === 8) {
    return String.fromCharCode(b[off]!, b[off + 1]!, b[off + 2]!, b[off + 3]!, b[off + 4]!, b[off + 5]!, b[off + 6]!, b[off + 7]!);
  }
  let s = '';
  for (let i = off; i < off + n; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** FNV-1a over bytes, folded to a small integer (a V8 Smi) for cheap Map keys. */
export function hashBytes(b: Uint8Array, off: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h >>> 0) & 0x3fffffff;
}

/** Converts a latin1 key (from traceKey/spanKey) back to hex. */
export function keyToHex(key: string): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += HEX[key.charCodeAt(i) & 0xff];
  return s;
}

/** Converts a hex id to a latin1 key; undefined when `hexId` is not valid hex of the right length. */
export function hexToKey(hexId: string, bytes: number): string | undefined {
  if (hexId.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(hexId)) return undefined;
  let s = '';
  for (let i = 0; i < hexId.length; i += 2) s += String.fromCharCode(parseInt(hexId.slice(i, i + 2), 16));
  return s;
}

/** Reads one OTLP KeyValue whose bytes end at `e` (also used by the ClickHouse row fast path). */
export function readKeyValue(r: Reader, e: number, depth: number): KeyValue {
  const outer = r.end;
  r.end = e;
  let key = '';
  let value: AnyValue = {};
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) key = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) value = readAnyValue(r, r.lenEnd(), depth + 1);
    else r.skip(tag & 7);
  }
  r.end = outer;
  r.pos = e;
  return { key, value };
}

/** Reads one OTLP AnyValue whose bytes end at `e`; throws DecodeError past MAX_DEPTH of nesting. */
export function readAnyValue(r: Reader, e: number, depth: number): AnyValue {
  if (depth > MAX_DEPTH) throw new DecodeError('attribute values nested too deeply');
  const outer = r.end;
  r.end = e;
  let v: AnyValue = {};
  while (r.pos < e) {
    const tag = r.uint32();
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1 && wt === WIRE_LEN) v = { stringValue: r.string() };
    else if (f === 2 && wt === WIRE_VARINT) v = { boolValue: r.bool() };
    else if (f === 3 && wt === WIRE_VARINT) v = { intValue: r.int64() };
    else if (f === 4 && wt === WIRE_I64) v = { doubleValue: r.double() };
    else if (f === 5 && wt === WIRE_LEN) {
      const e2 = r.lenEnd();
      const values: AnyValue[] = [];
      const o2 = r.end;
      r.end = e2;
      while (r.pos < e2) {
        const t2 = r.uint32();
        if (t2 === ((1 << 3) | WIRE_LEN)) values.push(readAnyValue(r, r.lenEnd(), depth + 1));
        else r.skip(t2 & 7);
      }
      r.end = o2;
      v = { arrayValue: { values } };
    } else if (f === 6 && wt === WIRE_LEN) {
      const e2 = r.lenEnd();
      const values: KeyValue[] = [];
      const o2 = r.end;
      r.end = e2;
      while (r.pos < e2) {
        const t2 = r.uint32();
        if (t2 === ((1 << 3) | WIRE_LEN)) values.push(readKeyValue(r, r.lenEnd(), depth + 1));
        else r.skip(t2 & 7);
      }
      r.end = o2;
      v = { kvlistValue: { values } };
    } else if (f === 7 && wt === WIRE_LEN) v = { bytesValue: r.bytes() };
    else r.skip(wt);
  }
  r.end = outer;
  r.pos = e;
  return v;
}

/** A `Span.Event` message ending at `e`. */
export function readEvent(r: Reader, e: number): SpanEvent {
  const outer = r.end;
  r.end = e;
  let timeUnixNano = 0n;
  let name = '';
  const attributes: KeyValue[] = [];
  let dropped = 0;
  while (r.pos < e) {
    const tag = r.uint32();
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1 && wt === WIRE_I64) timeUnixNano = r.fixed64();
    else if (f === 2 && wt === WIRE_LEN) name = r.string();
    else if (f === 3 && wt === WIRE_LEN) attributes.push(readKeyValue(r, r.lenEnd(), 0));
    else if (f === 4 && wt === WIRE_VARINT) dropped = r.uint32();
    else r.skip(wt);
  }
  r.end = outer;
  return { timeUnixNano, name, attributes, droppedAttributesCount: dropped };
}

/** A `Span.Link` message ending at `e`. */
export function readLink(r: Reader, e: number): SpanLink {
  const outer = r.end;
  r.end = e;
  let traceId = '';
  let spanId = '';
  let traceState = '';
  const attributes: KeyValue[] = [];
  let dropped = 0;
  let flags = 0;
  while (r.pos < e) {
    const tag = r.uint32();
    const f = tag >>> 3;
    const wt = tag & 7;
    if (f === 1 && wt === WIRE_LEN) {
      const e2 = r.lenEnd();
      traceId = hex(r.buf, r.pos, e2 - r.pos);
      r.pos = e2;
    } else if (f === 2 && wt === WIRE_LEN) {
      const e2 = r.lenEnd();
      spanId = hex(r.buf, r.pos, e2 - r.pos);
      r.pos = e2;
    } else if (f === 3 && wt === WIRE_LEN) traceState = r.string();
    else if (f === 4 && wt === WIRE_LEN) attributes.push(readKeyValue(r, r.lenEnd(), 0));
    else if (f === 5 && wt === WIRE_VARINT) dropped = r.uint32();
    else if (f === 6 && wt === WIRE_I32) flags = r.fixed32();
    else r.skip(wt);
  }
  r.end = outer;
  return { traceId: traceId as TraceId, spanId: spanId as SpanId, traceState, attributes, droppedAttributesCount: dropped, flags };
}

/**
 * A `Traces` over (a selection of) the rows of a SpanTable. `rows` null = all rows in order.
 * Views are cheap; the memory store builds one per trace it returns.
 */
export class ProtoTraces extends Traces {
  readonly spanCount: number;
  private cached: readonly ResourceSpans[] | undefined;

  constructor(
    readonly table: SpanTable,
    /** Ascending row indices, or null for every row. */
    readonly rows: ArrayLike<number> | null = null,
  ) {
    super();
    this.spanCount = rows === null ? table.n : rows.length;
  }

  /** Calls fn for each row of this view, in order. */
  forEachRow(fn: (row: number) => void): void {
    if (this.rows === null) for (let i = 0; i < this.table.n; i++) fn(i);
    else for (let i = 0; i < this.rows.length; i++) fn(this.rows[i]!);
  }

  resourceSpans(): readonly ResourceSpans[] {
    this.cached ??= materialise(this.table, this.rows);
    return this.cached;
  }

  parts(): readonly Traces[] {
    return [this];
  }
}

function materialise(t: SpanTable, rows: ArrayLike<number> | null): ResourceSpans[] {
  const out: ResourceSpans[] = [];
  let curRes = -1;
  let curScope = -1;
  let scopeSpans: ScopeSpans[] = [];
  let spans: Span[] = [];
  const n = rows === null ? t.n : rows.length;
  for (let i = 0; i < n; i++) {
    const row = rows === null ? i : rows[i]!;
    const sc = t.scopeIndex(row);
    if (sc !== curScope) {
      const res = t.scopes[sc]!.resource;
      if (res !== curRes) {
        scopeSpans = [];
        out.push({ resource: t.resource(res), scopeSpans, schemaUrl: t.resources[res]!.schemaUrl });
        curRes = res;
      }
      spans = [];
      scopeSpans.push({ scope: t.scope(sc), spans, schemaUrl: t.scopes[sc]!.schemaUrl });
      curScope = sc;
    }
    spans.push(t.span(row));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecodedTraces {
  readonly traces: Traces;
  /** Spans dropped because they are invalid (bad trace or span id). */
  readonly rejectedSpans: number;
  /** Why, when rejectedSpans > 0 ('' otherwise). */
  readonly errorMessage: string;
}

const SERVICE_NAME = new TextEncoder().encode('service.name');

class TableBuilder {
  rows: Uint32Array;
  n = 0;
  rejected = 0;
  badTrace = 0;
  badSpan = 0;
  badParent = 0;
  resources: ResourceInfo[] = [];
  scopes: ScopeInfo[] = [];
  constructor(
    readonly buf: Uint8Array,
    estimate: number,
  ) {
    this.rows = new Uint32Array(Math.max(8, estimate) * ROW_WORDS);
  }
  grow(): void {
    const nr = new Uint32Array(this.rows.length * 2);
    nr.set(this.rows);
    this.rows = nr;
  }
}

/**
 * Decodes an `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`. Throws
 * DecodeError when the bytes are not a valid encoding. Spans with a trace id that is not 16
 * bytes (or all zero), a span id that is not 8 bytes (or all zero) or a parent span id that is
 * neither empty nor 8 bytes are left out and counted in `rejectedSpans`.
 *
 * The returned Traces keeps a reference to `buf`: the caller must not reuse or modify it.
 */
export function decodeTraceRequestProto(buf: Uint8Array): DecodedTraces {
  const tb = new TableBuilder(buf, (buf.length / 256) | 0);
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const e = r.lenEnd();
      decodeResourceSpans(tb, r, e);
    } else r.skip(tag & 7);
  }
  // The table is retained as long as its spans are stored: trim the slack of the estimate.
  const rows = tb.rows.length > tb.n * ROW_WORDS * 1.25 + 64 ? tb.rows.slice(0, tb.n * ROW_WORDS) : tb.rows;
  const table = new SpanTable(buf, tb.n, rows, tb.resources, tb.scopes);
  return { traces: new ProtoTraces(table), rejectedSpans: tb.rejected, errorMessage: rejectMessage(tb) };
}

function rejectMessage(tb: TableBuilder): string {
  if (tb.rejected === 0) return '';
  const parts: string[] = [];
  if (tb.badTrace) parts.push(`${tb.badTrace} with a trace id that is not 16 bytes or is all zero`);
  if (tb.badSpan) parts.push(`${tb.badSpan} with a span id that is not 8 bytes or is all zero`);
  if (tb.badParent) parts.push(`${tb.badParent} with a parent span id that is neither empty nor 8 bytes`);
  return `${tb.rejected} invalid span(s) rejected: ${parts.join('; ')}`;
}

function decodeResourceSpans(tb: TableBuilder, r: Reader, e: number): void {
  const outer = r.end;
  r.end = e;
  const resIdx = tb.resources.length;
  let off = -1;
  let end = -1;
  let schemaUrl = '';
  let serviceName = '';
  // placeholder, replaced below once the resource and schema url are known
  tb.resources.push({ off, end, schemaUrl, serviceName });
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LEN)) {
      decodeScopeSpans(tb, r, r.lenEnd(), resIdx);
    } else if (tag === ((1 << 3) | WIRE_LEN)) {
      end = r.lenEnd();
      off = r.pos;
      serviceName = scanResource(r, end);
    } else if (tag === ((3 << 3) | WIRE_LEN)) schemaUrl = r.string();
    else r.skip(tag & 7);
  }
  tb.resources[resIdx] = { off, end, schemaUrl, serviceName };
  r.end = outer;
}

/** Checks a Resource payload and returns its service.name. */
function scanResource(r: Reader, e: number): string {
  const outer = r.end;
  r.end = e;
  let service = '';
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const kvEnd = r.lenEnd();
      const s = scanKeyValue(r, kvEnd, 0, SERVICE_NAME);
      if (s !== undefined) service = s;
    } else r.skip(tag & 7);
  }
  r.end = outer;
  return service;
}

function decodeScopeSpans(tb: TableBuilder, r: Reader, e: number, resIdx: number): void {
  const outer = r.end;
  r.end = e;
  const scopeIdx = tb.scopes.length;
  let off = -1;
  let end = -1;
  let schemaUrl = '';
  tb.scopes.push({ resource: resIdx, off, end, schemaUrl });
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LEN)) {
      decodeSpan(tb, r, r.lenEnd(), scopeIdx);
    } else if (tag === ((1 << 3) | WIRE_LEN)) {
      end = r.lenEnd();
      off = r.pos;
      scanScope(r, end);
    } else if (tag === ((3 << 3) | WIRE_LEN)) schemaUrl = r.string();
    else r.skip(tag & 7);
  }
  tb.scopes[scopeIdx] = { resource: resIdx, off, end, schemaUrl };
  r.end = outer;
}

function scanScope(r: Reader, e: number): void {
  const outer = r.end;
  r.end = e;
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((3 << 3) | WIRE_LEN)) scanKeyValue(r, r.lenEnd(), 0, null);
    else r.skip(tag & 7);
  }
  r.end = outer;
}

function allZero(b: Uint8Array, off: number, n: number): boolean {
  for (let i = off; i < off + n; i++) if (b[i] !== 0) return false;
  return true;
}

function decodeSpan(tb: TableBuilder, r: Reader, e: number, scopeIdx: number): void {
  const buf = r.buf;
  const spanOff = r.pos;
  const outer = r.end;
  r.end = e;
  let tid = 0;
  let tidLen = 0;
  let sid = 0;
  let sidLen = 0;
  let pid = 0;
  let pidLen = 0;
  let nameOff = 0;
  let nameLen = 0;
  let kind = 0;
  let status = 0;
  let sLo = 0;
  let sHi = 0;
  let eLo = 0;
  let eHi = 0;
  while (r.pos < e) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WIRE_LEN: {
        const x = r.lenEnd();
        tid = r.pos;
        tidLen = x - tid;
        r.pos = x;
        break;
      }
      case (2 << 3) | WIRE_LEN: {
        const x = r.lenEnd();
        sid = r.pos;
        sidLen = x - sid;
        r.pos = x;
        break;
      }
      case (4 << 3) | WIRE_LEN: {
        const x = r.lenEnd();
        pid = r.pos;
        pidLen = x - pid;
        r.pos = x;
        break;
      }
      case (5 << 3) | WIRE_LEN: {
        const x = r.lenEnd();
        nameOff = r.pos;
        nameLen = x - nameOff;
        r.pos = x;
        break;
      }
      case (6 << 3) | WIRE_VARINT:
        kind = r.uint32();
        break;
      case (7 << 3) | WIRE_I64:
        sLo = r.fixed32();
        sHi = r.fixed32();
        break;
      case (8 << 3) | WIRE_I64:
        eLo = r.fixed32();
        eHi = r.fixed32();
        break;
      case (9 << 3) | WIRE_LEN:
        scanKeyValue(r, r.lenEnd(), 0, null);
        break;
      case (11 << 3) | WIRE_LEN:
        scanEventOrLink(r, r.lenEnd(), 3);
        break;
      case (13 << 3) | WIRE_LEN:
        scanEventOrLink(r, r.lenEnd(), 4);
        break;
      case (15 << 3) | WIRE_LEN: {
        const x = r.lenEnd();
        r.end = x;
        while (r.pos < x) {
          const t2 = r.uint32();
          if (t2 === ((3 << 3) | WIRE_VARINT)) status = r.uint32();
          else r.skip(t2 & 7);
        }
        r.end = e;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  r.end = outer;
  let bad = false;
  if (tidLen !== 16 || allZero(buf, tid, 16)) {
    tb.badTrace++;
    bad = true;
  } else if (sidLen !== 8 || allZero(buf, sid, 8)) {
    tb.badSpan++;
    bad = true;
  } else if (pidLen !== 0 && pidLen !== 8) {
    tb.badParent++;
    bad = true;
  }
  if (bad) {
    tb.rejected++;
    return;
  }
  if ((tb.n + 1) * ROW_WORDS > tb.rows.length) tb.grow();
  const rows = tb.rows;
  const b = tb.n * ROW_WORDS;
  rows[b + F_OFF] = spanOff;
  rows[b + F_END] = e;
  rows[b + F_SCOPE] = scopeIdx;
  rows[b + F_TID] = tid;
  rows[b + F_SID] = sid;
  rows[b + F_PID] = pidLen === 8 && !allZero(buf, pid, 8) ? pid : 0;
  rows[b + F_NAME] = nameOff;
  rows[b + F_NAMELEN] = nameLen;
  rows[b + F_KIND] = kind;
  rows[b + F_STATUS] = status;
  rows[b + F_START_LO] = sLo;
  rows[b + F_START_HI] = sHi;
  rows[b + F_END_LO] = eLo;
  rows[b + F_END_HI] = eHi;
  tb.n++;
}

function scanEventOrLink(r: Reader, e: number, attrField: number): void {
  const outer = r.end;
  r.end = e;
  const attrTag = (attrField << 3) | WIRE_LEN;
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === attrTag) scanKeyValue(r, r.lenEnd(), 0, null);
    else r.skip(tag & 7);
  }
  r.end = outer;
}

/**
 * Checks a KeyValue payload's structure. When `wantKey` matches its key and the value is a
 * string, returns that string.
 */
function scanKeyValue(r: Reader, e: number, depth: number, wantKey: Uint8Array | null): string | undefined {
  const outer = r.end;
  r.end = e;
  let match = false;
  let out: string | undefined;
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((2 << 3) | WIRE_LEN)) {
      const x = r.lenEnd();
      if (match) {
        // service.name: read the string value
        const start = r.pos;
        scanAnyValue(r, x, depth + 1);
        const vr = new Reader(r.buf, start, x);
        while (vr.pos < x) {
          const t2 = vr.uint32();
          if (t2 === ((1 << 3) | WIRE_LEN)) out = vr.string();
          else vr.skip(t2 & 7);
        }
      } else scanAnyValue(r, x, depth + 1);
    } else if (tag === ((1 << 3) | WIRE_LEN) && wantKey !== null) {
      const x = r.lenEnd();
      match = x - r.pos === wantKey.length && bytesEqual(r.buf, r.pos, wantKey);
      r.pos = x;
    } else r.skip(tag & 7);
  }
  r.end = outer;
  return out;
}

function bytesEqual(b: Uint8Array, off: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (b[off + i] !== want[i]) return false;
  return true;
}

function scanAnyValue(r: Reader, e: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new DecodeError('attribute values nested too deeply');
  const outer = r.end;
  r.end = e;
  while (r.pos < e) {
    const tag = r.uint32();
    if (tag === ((5 << 3) | WIRE_LEN) || tag === ((6 << 3) | WIRE_LEN)) {
      // ArrayValue{repeated AnyValue values = 1} / KeyValueList{repeated KeyValue values = 1}
      const x = r.lenEnd();
      const isArray = tag >>> 3 === 5;
      r.end = x;
      while (r.pos < x) {
        const t2 = r.uint32();
        if (t2 === ((1 << 3) | WIRE_LEN)) {
          const y = r.lenEnd();
          if (isArray) scanAnyValue(r, y, depth + 1);
          else scanKeyValue(r, y, depth + 1, null);
        } else r.skip(t2 & 7);
      }
      r.end = e;
    } else r.skip(tag & 7);
  }
  r.end = outer;
}
