import type { AnyValue, KeyValue, ResourceSpans, Span } from './model.js';
import { ProtoTraces, decodeTraceRequestProto } from './proto-view.js';
import type { Traces } from './traces.js';
import { DecodeError, Reader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, Writer } from './wire.js';

/** `ExportTracePartialSuccess`; both fields zero/empty means full success. */
export interface ExportTraceResponse {
  readonly rejectedSpans: bigint | number;
  readonly errorMessage: string;
}

/** Encodes an `ExportTraceServiceRequest` from the object model. */
export function encodeTraceRequestProto(td: Traces | readonly ResourceSpans[]): Uint8Array {
  const rs = Array.isArray(td) ? (td as readonly ResourceSpans[]) : (td as Traces).resourceSpans();
  const w = new Writer(4096);
  for (const r of rs) {
    const m = w.fork(1);
    const mr = w.fork(1);
    writeAttrs(w, 1, r.resource.attributes);
    if (r.resource.droppedAttributesCount) w.tag(2, WIRE_VARINT).varint32(r.resource.droppedAttributesCount);
    w.join(mr);
    for (const ss of r.scopeSpans) {
      const ms = w.fork(2);
      const msc = w.fork(1);
      if (ss.scope.name) w.string(1, ss.scope.name);
      if (ss.scope.version) w.string(2, ss.scope.version);
      writeAttrs(w, 3, ss.scope.attributes);
      if (ss.scope.droppedAttributesCount) w.tag(4, WIRE_VARINT).varint32(ss.scope.droppedAttributesCount);
      w.join(msc);
      for (const s of ss.spans) writeSpan(w, s);
      if (ss.schemaUrl) w.string(3, ss.schemaUrl);
      w.join(ms);
    }
    if (r.schemaUrl) w.string(3, r.schemaUrl);
    w.join(m);
  }
  return w.finish();
}

/**
 * Returns `td` as table-backed parts: ProtoTraces parts are returned as they are, others are
 * encoded and decoded once. Spans with invalid ids are dropped (their count is returned).
 */
export function toProtoParts(td: Traces): { parts: ProtoTraces[]; rejectedSpans: number } {
  const parts: ProtoTraces[] = [];
  let rejectedSpans = 0;
  for (const p of td.parts()) {
    if (p instanceof ProtoTraces) parts.push(p);
    else if (p.spanCount > 0) {
      const d = decodeTraceRequestProto(encodeTraceRequestProto(p));
      rejectedSpans += d.rejectedSpans;
      parts.push(d.traces as ProtoTraces);
    }
  }
  return { parts, rejectedSpans };
}

function hexBytes(h: string): Uint8Array {
  return Buffer.from(h, 'hex');
}

function writeSpan(w: Writer, s: Span): void {
  const m = w.fork(2);
  w.bytes(1, hexBytes(s.traceId));
  w.bytes(2, hexBytes(s.spanId));
  if (s.traceState) w.string(3, s.traceState);
  if (s.parentSpanId) w.bytes(4, hexBytes(s.parentSpanId));
  w.string(5, s.name);
  if (s.kind) w.tag(6, WIRE_VARINT).varint32(s.kind);
  w.tag(7, WIRE_I64).fixed64(s.startTimeUnixNano);
  w.tag(8, WIRE_I64).fixed64(s.endTimeUnixNano);
  writeAttrs(w, 9, s.attributes);
  if (s.droppedAttributesCount) w.tag(10, WIRE_VARINT).varint32(s.droppedAttributesCount);
  for (const ev of s.events) {
    const me = w.fork(11);
    w.tag(1, WIRE_I64).fixed64(ev.timeUnixNano);
    if (ev.name) w.string(2, ev.name);
    writeAttrs(w, 3, ev.attributes);
    if (ev.droppedAttributesCount) w.tag(4, WIRE_VARINT).varint32(ev.droppedAttributesCount);
    w.join(me);
  }
  if (s.droppedEventsCount) w.tag(12, WIRE_VARINT).varint32(s.droppedEventsCount);
  for (const l of s.links) {
    const ml = w.fork(13);
    w.bytes(1, hexBytes(l.traceId));
    w.bytes(2, hexBytes(l.spanId));
    if (l.traceState) w.string(3, l.traceState);
    writeAttrs(w, 4, l.attributes);
    if (l.droppedAttributesCount) w.tag(5, WIRE_VARINT).varint32(l.droppedAttributesCount);
    if (l.flags) w.tag(6, WIRE_I32).fixed32(l.flags);
    w.join(ml);
  }
  if (s.droppedLinksCount) w.tag(14, WIRE_VARINT).varint32(s.droppedLinksCount);
  if (s.status.code || s.status.message) {
    const mst = w.fork(15);
    if (s.status.message) w.string(2, s.status.message);
    if (s.status.code) w.tag(3, WIRE_VARINT).varint32(s.status.code);
    w.join(mst);
  }
  if (s.flags) w.tag(16, WIRE_I32).fixed32(s.flags);
  w.join(m);
}

function writeAttrs(w: Writer, field: number, kvs: readonly KeyValue[]): void {
  for (const kv of kvs) writeKeyValue(w, field, kv);
}

function writeKeyValue(w: Writer, field: number, kv: KeyValue): void {
  const m = w.fork(field);
  w.string(1, kv.key);
  writeAnyValue(w, 2, kv.value);
  w.join(m);
}

function writeAnyValue(w: Writer, field: number, v: AnyValue): void {
  const m = w.fork(field);
  if ('stringValue' in v) w.string(1, v.stringValue);
  else if ('boolValue' in v) w.tag(2, WIRE_VARINT).varint32(v.boolValue ? 1 : 0);
  else if ('intValue' in v) w.tag(3, WIRE_VARINT).varint64(v.intValue);
  else if ('doubleValue' in v) w.tag(4, WIRE_I64).double(v.doubleValue);
  else if ('arrayValue' in v) {
    const ma = w.fork(5);
    for (const x of v.arrayValue.values) writeAnyValue(w, 1, x);
    w.join(ma);
  } else if ('kvlistValue' in v) {
    const mk = w.fork(6);
    for (const x of v.kvlistValue.values) writeKeyValue(w, 1, x);
    w.join(mk);
  } else if ('bytesValue' in v) w.bytes(7, v.bytesValue);
  w.join(m);
}

/** Encodes an `ExportTraceServiceResponse`; partial_success only when something was rejected. */
export function encodeTraceResponseProto(res?: ExportTraceResponse): Uint8Array {
  if (!res || (BigInt(res.rejectedSpans) === 0n && !res.errorMessage)) return new Uint8Array(0);
  const w = new Writer(64 + res.errorMessage.length * 3);
  const m = w.fork(1);
  if (BigInt(res.rejectedSpans) !== 0n) w.tag(1, WIRE_VARINT).varint64(BigInt(res.rejectedSpans));
  if (res.errorMessage) w.string(2, res.errorMessage);
  w.join(m);
  return w.finish();
}

export function decodeTraceResponseProto(buf: Uint8Array): { rejectedSpans: bigint; errorMessage: string } {
  const r = new Reader(buf);
  let rejectedSpans = 0n;
  let errorMessage = '';
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const e = r.lenEnd();
      const outer = r.end;
      r.end = e;
      while (r.pos < e) {
        const t2 = r.uint32();
        if (t2 === ((1 << 3) | WIRE_VARINT)) rejectedSpans = r.int64();
        else if (t2 === ((2 << 3) | WIRE_LEN)) errorMessage = r.string();
        else r.skip(t2 & 7);
      }
      r.end = outer;
    } else r.skip(tag & 7);
  }
  return { rejectedSpans, errorMessage };
}

/** gRPC status codes used by the receiver. */
export const GrpcCode = { OK: 0, INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** Encodes a `google.rpc.Status {code, message}` (no details), as OTLP/HTTP error bodies use. */
export function encodeRpcStatusProto(code: number, message: string): Uint8Array {
  const w = new Writer(32 + message.length * 3);
  if (code) w.tag(1, WIRE_VARINT).varint32(code);
  if (message) w.string(2, message);
  return w.finish();
}

export function decodeRpcStatusProto(buf: Uint8Array): { code: number; message: string } {
  const r = new Reader(buf);
  let code = 0;
  let message = '';
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WIRE_VARINT)) code = r.uint32() | 0;
    else if (tag === ((2 << 3) | WIRE_LEN)) message = r.string();
    else r.skip(tag & 7);
  }
  return { code, message };
}

export { DecodeError };
