/**
 * TEST/BENCH ONLY: deterministic generators of OTLP trace data that use every field of the model,
 * and conversion of the object model to protobufjs' input shape (for independent fixtures).
 */
import type { AnyValue, KeyValue, ResourceSpans, Span, SpanId, SpanKind, StatusCode, TraceId } from '../model.js';

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomHex(r: () => number, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(r() * 256).toString(16).padStart(2, '0');
  if (/^0+$/.test(s)) s = s.slice(0, -1) + '1';
  return s;
}

export const SERVICES = ['frontend', 'customer', 'driver', 'route', 'redis', 'mysql', 'payment', 'auth', 'email', 'search'];
const OPS = ['GET /dispatch', 'HTTP GET', 'SQL SELECT', 'FindDriverIDs', 'GetDriver', 'HTTP POST /route', 'charge', 'login', 'send', 'query'];

export interface GenOptions {
  seed?: number;
  /** Spans per request. */
  spans: number;
  /** Spans per trace (the request holds spans/perTrace traces). */
  perTrace?: number;
  /** Distinct resources (services) in the request. */
  services?: number;
  /** Attributes per span. */
  attrs?: number;
  /** Use every value type and field (events, links, kvlists, arrays, bytes...). */
  everything?: boolean;
  /** Base start time in ns. */
  baseNanos?: bigint;
}

/** One request's worth of ResourceSpans: `services` resources, spans spread across them, traces of `perTrace` spans. */
export function generateResourceSpans(o: GenOptions): ResourceSpans[] {
  const r = rng(o.seed ?? 1);
  const perTrace = o.perTrace ?? 10;
  const nServices = o.services ?? 3;
  const attrs = o.attrs ?? 10;
  const base = o.baseNanos ?? 1_700_000_000_000_000_000n;
  const everything = o.everything ?? false;
  const spansBySvc: Span[][] = Array.from({ length: nServices }, () => []);
  let traceId = randomHex(r, 16) as TraceId;
  let parent: SpanId | '' = '';
  for (let i = 0; i < o.spans; i++) {
    if (i % perTrace === 0) {
      traceId = randomHex(r, 16) as TraceId;
      parent = '';
    }
    const spanId = randomHex(r, 8) as SpanId;
    const start = base + BigInt(i) * 1_000_000n + BigInt(Math.floor(r() * 1000));
    const dur = BigInt(Math.floor(r() * 50_000_000) + 1000);
    const attributes: KeyValue[] = [];
    for (let a = 0; a < attrs; a++) {
      const t = a % 4;
      const key = ['http.method', 'http.status_code', 'http.url', 'net.peer.port', 'db.system', 'retry', 'load', 'user.id', 'region', 'component'][a % 10]! + (a >= 10 ? `.${a}` : '');
      const value: AnyValue =
        t === 0
          ? { stringValue: `value-${Math.floor(r() * 1000)}` }
          : t === 1
            ? { intValue: BigInt(Math.floor(r() * 600)) }
            : t === 2
              ? { stringValue: `https://example.com/api/v1/items/${Math.floor(r() * 1e6)}` }
              : a % 8 === 3
                ? { boolValue: r() < 0.5 }
                : { doubleValue: Math.floor(r() * 1000) / 8 };
      attributes.push({ key, value });
    }
    const svc = (i % perTrace) % nServices;
    const span: Span = {
      traceId,
      spanId,
      traceState: everything && i % 3 === 0 ? 'vendor=x' : '',
      parentSpanId: parent,
      flags: everything ? 0x101 : 1,
      name: OPS[(i * 7 + svc) % OPS.length]!,
      kind: ((i % 5) + 1) as SpanKind,
      startTimeUnixNano: start,
      endTimeUnixNano: start + dur,
      attributes: everything ? [...attributes, ...exoticAttributes(r)] : attributes,
      droppedAttributesCount: everything ? 2 : 0,
      events:
        everything || i % 10 === 0
          ? [{ timeUnixNano: start + 10n, name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'boom ü' } }], droppedAttributesCount: everything ? 1 : 0 }]
          : [],
      droppedEventsCount: everything ? 3 : 0,
      links: everything
        ? [{ traceId: randomHex(r, 16) as TraceId, spanId: randomHex(r, 8) as SpanId, traceState: 'a=b', attributes: [{ key: 'link.kind', value: { stringValue: 'follows' } }], droppedAttributesCount: 1, flags: 1 }]
        : [],
      droppedLinksCount: everything ? 4 : 0,
      status: i % 17 === 0 ? { code: 2 as StatusCode, message: 'failed' } : { code: 0 as StatusCode, message: '' },
    };
    spansBySvc[svc]!.push(span);
    parent = spanId;
  }
  return spansBySvc.map((spans, s) => ({
    resource: {
      attributes: [
        { key: 'service.name', value: { stringValue: SERVICES[s % SERVICES.length]! } },
        { key: 'host.name', value: { stringValue: `host-${s}` } },
        { key: 'telemetry.sdk.language', value: { stringValue: 'nodejs' } },
      ],
      droppedAttributesCount: everything ? 5 : 0,
    },
    scopeSpans: [
      {
        scope: {
          name: '@opentelemetry/instrumentation-http',
          version: '0.50.0',
          attributes: everything ? [{ key: 'scope.attr', value: { intValue: -5n } }] : [],
          droppedAttributesCount: everything ? 6 : 0,
        },
        spans,
        schemaUrl: everything ? 'https://opentelemetry.io/schemas/1.24.0' : '',
      },
    ],
    schemaUrl: everything ? 'https://opentelemetry.io/schemas/1.25.0' : '',
  }));
}

function exoticAttributes(r: () => number): KeyValue[] {
  return [
    { key: 'neg', value: { intValue: -9223372036854775808n } },
    { key: 'big', value: { intValue: 9223372036854775807n } },
    { key: 'pi', value: { doubleValue: 3.141592653589793 } },
    { key: 'empty', value: {} },
    { key: 'bytes', value: { bytesValue: new Uint8Array([0, 1, 2, 250, Math.floor(r() * 255)]) } },
    { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1n }, { arrayValue: { values: [{ boolValue: false }] } }] } } },
    { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }, { key: 'n', value: { kvlistValue: { values: [] } } }] } } },
    { key: 'unicode ✓', value: { stringValue: 'héllo wörld — 日本語 🙂'.repeat(3) } },
  ];
}

// ---- protobufjs input shape --------------------------------------------------------------

function pbValue(v: AnyValue): Record<string, unknown> {
  if ('stringValue' in v) return { stringValue: v.stringValue };
  if ('boolValue' in v) return { boolValue: v.boolValue };
  if ('intValue' in v) return { intValue: v.intValue.toString() };
  if ('doubleValue' in v) return { doubleValue: v.doubleValue };
  if ('bytesValue' in v) return { bytesValue: Buffer.from(v.bytesValue) };
  if ('arrayValue' in v) return { arrayValue: { values: v.arrayValue.values.map(pbValue) } };
  if ('kvlistValue' in v) return { kvlistValue: { values: pbAttrs(v.kvlistValue.values) } };
  return {};
}
function pbAttrs(kvs: readonly KeyValue[]): unknown[] {
  return kvs.map((kv) => ({ key: kv.key, value: pbValue(kv.value) }));
}
const hexBuf = (h: string) => Buffer.from(h, 'hex');

/** The object model as protobufjs `fromObject` input for ExportTraceServiceRequest. */
export function toProtobufjsObject(rs: readonly ResourceSpans[]): Record<string, unknown> {
  return {
    resourceSpans: rs.map((r) => ({
      resource: { attributes: pbAttrs(r.resource.attributes), droppedAttributesCount: r.resource.droppedAttributesCount },
      schemaUrl: r.schemaUrl,
      scopeSpans: r.scopeSpans.map((ss) => ({
        scope: { name: ss.scope.name, version: ss.scope.version, attributes: pbAttrs(ss.scope.attributes), droppedAttributesCount: ss.scope.droppedAttributesCount },
        schemaUrl: ss.schemaUrl,
        spans: ss.spans.map((s) => ({
          traceId: hexBuf(s.traceId),
          spanId: hexBuf(s.spanId),
          traceState: s.traceState,
          parentSpanId: hexBuf(s.parentSpanId),
          flags: s.flags,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano.toString(),
          endTimeUnixNano: s.endTimeUnixNano.toString(),
          attributes: pbAttrs(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount,
          events: s.events.map((e) => ({ timeUnixNano: e.timeUnixNano.toString(), name: e.name, attributes: pbAttrs(e.attributes), droppedAttributesCount: e.droppedAttributesCount })),
          droppedEventsCount: s.droppedEventsCount,
          links: s.links.map((l) => ({ traceId: hexBuf(l.traceId), spanId: hexBuf(l.spanId), traceState: l.traceState, attributes: pbAttrs(l.attributes), droppedAttributesCount: l.droppedAttributesCount, flags: l.flags })),
          droppedLinksCount: s.droppedLinksCount,
          status: { code: s.status.code, message: s.status.message },
        })),
      })),
    })),
  };
}
