import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from './wire.js';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  DecodeError,
  ProtoTraces,
  decodeRpcStatusProto,
  decodeTraceRequestJson,
  decodeTraceRequestProto,
  decodeTraceResponseJson,
  decodeTraceResponseProto,
  encodeRpcStatusJson,
  encodeRpcStatusProto,
  encodeTraceRequestJson,
  encodeTraceRequestProto,
  encodeTraceResponseJson,
  encodeTraceResponseProto,
  toProtoParts,
  tracesToOtlpJson,
} from './otlp.js';
import { Traces } from './traces.js';
import type { ResourceSpans } from './model.js';
import { generateResourceSpans, toProtobufjsObject } from './testdata/generate.js';
import { otlpType } from './testdata/otlp-protobufjs.js';
import { anyValueString } from './values.js';

const Req = otlpType('ExportTraceServiceRequest');
const Res = otlpType('ExportTraceServiceResponse');

function pbEncode(rs: readonly ResourceSpans[]): Uint8Array {
  return Req.encode(Req.fromObject(toProtobufjsObject(rs))).finish();
}

/** protobufjs' view of a request, without empty sub-messages (an absent and an empty status are equivalent). */
function pbToObject(buf: Uint8Array): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const y = strip(x);
        if (y && typeof y === 'object' && !Array.isArray(y) && Object.keys(y).length === 0) continue;
        o[k] = y;
      }
      return o;
    }
    return v;
  };
  return strip(Req.toObject(Req.decode(buf), { longs: String, enums: Number, bytes: String, defaults: false }));
}

/** The model normalised for comparison (Uint8Array vs Buffer). */
function norm(rs: readonly ResourceSpans[]): unknown {
  return JSON.parse(JSON.stringify(rs, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)));
}

const full = generateResourceSpans({ spans: 40, perTrace: 7, services: 3, attrs: 12, everything: true, seed: 7 });

describe('protobuf request decoding', () => {
  test('decodes a protobufjs-encoded request with every field, exactly', () => {
    const d = decodeTraceRequestProto(pbEncode(full));
    assert.equal(d.rejectedSpans, 0);
    assert.equal(d.errorMessage, '');
    assert.ok(d.traces instanceof ProtoTraces);
    assert.equal(d.traces.spanCount, 40);
    assert.deepEqual(norm(d.traces.resourceSpans()), norm(full));
  });

  test('the compact rows carry ids, times, names, kinds, status and service', () => {
    const d = decodeTraceRequestProto(pbEncode(full));
    const t = (d.traces as ProtoTraces).table;
    let row = 0;
    for (const rs of full) {
      const svc = rs.resource.attributes.find((a) => a.key === 'service.name')!;
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          assert.equal(t.traceId(row), s.traceId);
          assert.equal(t.spanId(row), s.spanId);
          assert.equal(t.name(row), s.name);
          assert.equal(t.kind(row), s.kind);
          assert.equal(t.statusCode(row), s.status.code);
          assert.equal(t.startNanos(row), s.startTimeUnixNano);
          assert.equal(t.endNanos(row), s.endTimeUnixNano);
          assert.equal(t.durationNanos(row), Number(s.endTimeUnixNano - s.startTimeUnixNano));
          assert.equal(t.serviceName(row), anyValueString(svc.value));
          assert.equal(t.parentKey(row) === '', s.parentSpanId === '');
          assert.ok(t.nameEquals(row, new TextEncoder().encode(s.name)));
          row++;
        }
      }
    }
  });

  test('our encoder produces what protobufjs decodes to the same message', () => {
    const mine = encodeTraceRequestProto(full);
    assert.deepEqual(pbToObject(mine), pbToObject(pbEncode(full)));
    assert.deepEqual(norm(decodeTraceRequestProto(mine).traces.resourceSpans()), norm(full));
  });

  test('spans with invalid ids are rejected and counted; the rest are kept', () => {
    const rs = generateResourceSpans({ spans: 10, perTrace: 5, services: 1, seed: 3 });
    const obj = toProtobufjsObject(rs) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const spans = obj.resourceSpans[0]!.scopeSpans[0]!.spans;
    spans[0]!.traceId = Buffer.alloc(15, 1); // 15 bytes
    spans[1]!.traceId = Buffer.alloc(16, 0); // all zero
    spans[2]!.spanId = Buffer.alloc(7, 1); // 7 bytes
    spans[3]!.traceId = Buffer.alloc(0); // missing
    spans[4]!.parentSpanId = Buffer.alloc(3, 1); // bad parent
    const d = decodeTraceRequestProto(Req.encode(Req.fromObject(obj)).finish());
    assert.equal(d.rejectedSpans, 5);
    assert.equal(d.traces.spanCount, 5);
    assert.match(d.errorMessage, /5 invalid span\(s\) rejected/);
    assert.match(d.errorMessage, /3 with a trace id/);
    const kept = d.traces.resourceSpans()[0]!.scopeSpans[0]!.spans.map((s) => s.spanId);
    assert.deepEqual(kept, rs[0]!.scopeSpans[0]!.spans.slice(5).map((s) => s.spanId));
  });

  test('an empty body is an empty request', () => {
    const d = decodeTraceRequestProto(new Uint8Array(0));
    assert.equal(d.traces.spanCount, 0);
    assert.deepEqual(d.traces.resourceSpans(), []);
  });

  test('undecodable bodies throw DecodeError', () => {
    const good = pbEncode(full);
    const bad = [
      good.subarray(0, good.length - 7), // truncated
      new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length beyond the buffer
      new Uint8Array([0x0f]), // wire type 7
      new Uint8Array([0x0a, 0x02, 0x12, 0x05]), // nested overrun
      new TextEncoder().encode('{"resourceSpans":[]}'), // JSON sent as protobuf
      new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 11-byte varint
      new Uint8Array([0x0a, 0x02, 0x12, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // nested varint running past its message
    ];
    for (const b of bad) assert.throws(() => decodeTraceRequestProto(b), DecodeError, `bytes ${Buffer.from(b).toString('hex')}`);
  });

  test('unknown fields are skipped at every level', () => {
    const rs = generateResourceSpans({ spans: 3, services: 1, seed: 9 });
    const base = pbEncode(rs);
    // append an unknown field 99 (varint) and 100 (len) at top level
    const extra = new Uint8Array([0x98, 0x06, 0x01, 0xa2, 0x06, 0x02, 0x61, 0x62]);
    const buf = new Uint8Array(base.length + extra.length);
    buf.set(base);
    buf.set(extra, base.length);
    assert.deepEqual(norm(decodeTraceRequestProto(buf).traces.resourceSpans()), norm(rs));
  });

  test('views over rows materialise only their spans, grouped by resource and scope', () => {
    const d = decodeTraceRequestProto(pbEncode(full));
    const t = (d.traces as ProtoTraces).table;
    const view = new ProtoTraces(t, [1, 2, t.n - 1]);
    const rs = view.resourceSpans();
    assert.equal(view.spanCount, 3);
    const ids = rs.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.spanId)));
    assert.deepEqual(ids, [t.spanId(1), t.spanId(2), t.spanId(t.n - 1)]);
    assert.equal(rs.length, 2);
  });

  test('toProtoParts turns object-model traces into table-backed parts', () => {
    const td = Traces.merge([Traces.fromResourceSpans(full), decodeTraceRequestProto(pbEncode(full)).traces]);
    const { parts, rejectedSpans } = toProtoParts(td);
    assert.equal(rejectedSpans, 0);
    assert.equal(parts.length, 2);
    for (const p of parts) assert.deepEqual(norm(p.resourceSpans()), norm(full));
  });

  test('matchesAttributes looks at span, event, link, resource and scope attributes by string form', () => {
    const d = decodeTraceRequestProto(pbEncode(full));
    const t = (d.traces as ProtoTraces).table;
    const m = (o: Record<string, string>) => t.matchesAttributes(0, new Map(Object.entries(o)));
    assert.ok(m({ 'exception.message': 'boom ü' })); // event
    assert.ok(m({ 'link.kind': 'follows' })); // link
    assert.ok(m({ 'host.name': 'host-0' })); // resource
    assert.ok(m({ 'scope.attr': '-5' })); // scope
    assert.ok(m({ pi: '3.141592653589793', neg: '-9223372036854775808' }));
    assert.ok(m({ 'host.name': 'host-0', 'link.kind': 'follows', 'exception.message': 'boom ü' }));
    assert.ok(!m({ 'host.name': 'host-1' }));
    assert.ok(!m({ 'host.name': 'host-0', nope: 'x' }));
  });
});

describe('responses and status', () => {
  test('ExportTraceServiceResponse protobuf', () => {
    assert.equal(encodeTraceResponseProto().length, 0);
    assert.equal(encodeTraceResponseProto({ rejectedSpans: 0, errorMessage: '' }).length, 0);
    const b = encodeTraceResponseProto({ rejectedSpans: 3, errorMessage: 'bad ids' });
    const o = Res.toObject(Res.decode(b), { longs: String });
    assert.deepEqual(o, { partialSuccess: { rejectedSpans: '3', errorMessage: 'bad ids' } });
    assert.deepEqual(decodeTraceResponseProto(b), { rejectedSpans: 3n, errorMessage: 'bad ids' });
  });

  test('ExportTraceServiceResponse JSON', () => {
    assert.equal(encodeTraceResponseJson(), '{}');
    const s = encodeTraceResponseJson({ rejectedSpans: 2, errorMessage: 'x' });
    assert.deepEqual(JSON.parse(s), { partialSuccess: { rejectedSpans: '2', errorMessage: 'x' } });
    assert.deepEqual(decodeTraceResponseJson(s), { rejectedSpans: 2n, errorMessage: 'x' });
    assert.deepEqual(decodeTraceResponseJson('{"partial_success":{"rejected_spans":5}}'), { rejectedSpans: 5n, errorMessage: '' });
  });

  test('google.rpc.Status', () => {
    const b = encodeRpcStatusProto(3, 'invalid');
    assert.deepEqual(otlpType('RpcStatus').toObject(otlpType('RpcStatus').decode(b)), { code: 3, message: 'invalid' });
    assert.deepEqual(decodeRpcStatusProto(b), { code: 3, message: 'invalid' });
    assert.deepEqual(JSON.parse(encodeRpcStatusJson(14, 'later')), { code: 14, message: 'later' });
  });
});

describe('OTLP/JSON', () => {
  test('encode then decode round-trips every field', () => {
    const json = encodeTraceRequestJson(full);
    const d = decodeTraceRequestJson(json);
    assert.equal(d.rejectedSpans, 0);
    assert.deepEqual(norm(d.traces.resourceSpans()), norm(full));
  });

  test('JSON uses hex ids, integer enums, int64 strings and base64 bytes', () => {
    const o = tracesToOtlpJson(full);
    const span = o.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.equal(typeof span.kind, 'number');
    assert.equal(typeof span.startTimeUnixNano, 'string');
    const big = span.attributes.find((a) => a.key === 'big')!;
    assert.deepEqual(big.value, { intValue: '9223372036854775807' });
    const bytes = span.attributes.find((a) => a.key === 'bytes')!;
    assert.ok('bytesValue' in bytes.value && typeof bytes.value.bytesValue === 'string');
  });

  test('accepts snake_case, int64 numbers, enum names; ignores unknown fields', () => {
    const doc = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], extra: 1 },
          scope_spans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  trace_id: '0102030405060708090A0B0C0D0E0F10',
                  span_id: '0102030405060708',
                  parent_span_id: '',
                  name: 'op',
                  kind: 'SPAN_KIND_SERVER',
                  start_time_unix_nano: 1700000000000000000,
                  endTimeUnixNano: '1700000000000001000',
                  attributes: [
                    { key: 'i', value: { intValue: 42 } },
                    { key: 'd', value: { doubleValue: 'NaN' } },
                    { key: 'b', value: { bytesValue: 'AAEC' } },
                  ],
                  status: { code: 'STATUS_CODE_ERROR', message: 'bad' },
                  unknownField: { nested: true },
                },
              ],
            },
          ],
        },
      ],
      somethingElse: 'ignored',
    };
    const d = decodeTraceRequestJson(JSON.stringify(doc));
    assert.equal(d.rejectedSpans, 0);
    const s = d.traces.resourceSpans()[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(s.traceId, '0102030405060708090a0b0c0d0e0f10');
    assert.equal(s.kind, 2);
    assert.equal(s.startTimeUnixNano, 1700000000000000000n);
    assert.equal(s.endTimeUnixNano, 1700000000000001000n);
    assert.deepEqual(s.status, { code: 2, message: 'bad' });
    assert.deepEqual(s.attributes[0]!.value, { intValue: 42n });
    assert.ok(Number.isNaN((s.attributes[1]!.value as { doubleValue: number }).doubleValue));
    assert.deepEqual([...(s.attributes[2]!.value as { bytesValue: Uint8Array }).bytesValue], [0, 1, 2]);
  });

  test('invalid ids are rejected and counted, the rest kept', () => {
    const mk = (traceId: string, spanId: string) => ({ traceId, spanId, name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' });
    const doc = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                mk('0102030405060708090a0b0c0d0e0f10', '0102030405060708'),
                mk('0102', '0102030405060708'),
                mk('00000000000000000000000000000000', '0102030405060708'),
                mk('0102030405060708090a0b0c0d0e0f10', 'zz02030405060708'),
                mk('', ''),
              ],
            },
          ],
        },
      ],
    };
    const d = decodeTraceRequestJson(JSON.stringify(doc));
    assert.equal(d.traces.spanCount, 1);
    assert.equal(d.rejectedSpans, 4);
    assert.match(d.errorMessage, /4 invalid span\(s\) rejected/);
  });

  test('malformed documents throw DecodeError naming the path', () => {
    assert.throws(() => decodeTraceRequestJson('{not json'), DecodeError);
    assert.throws(() => decodeTraceRequestJson('[]'), DecodeError);
    assert.throws(() => decodeTraceRequestJson('{"resourceSpans":{}}'), /resourceSpans: expected an array/);
    assert.throws(
      () => decodeTraceRequestJson('{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"abc"}]}]}]}'),
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.startTimeUnixNano/,
    );
    assert.throws(() => decodeTraceRequestJson('{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]}'), DecodeError);
  });
});

describe('against the OpenTelemetry JS SDK serializers', () => {
  test('SDK protobuf and SDK JSON decode to the same spans', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'sdk-svc', 'deployment.environment': 'test' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('codec-test', '1.2.3');
    const parent = tracer.startSpan('parent', { kind: ApiSpanKind.SERVER, attributes: { 'http.status_code': 200, ratio: 0.5, ok: true, tags: ['a', 'b'] } });
    const child = tracer.startSpan('child', { kind: ApiSpanKind.CLIENT }, trace.setSpan(context.active(), parent));
    child.addEvent('evt', { n: 1 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.addLink({ context: parent.spanContext(), attributes: { l: 'x' } });
    child.end();
    parent.end();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    const pb = ProtobufTraceSerializer.serializeRequest(spans)!;
    const js = JsonTraceSerializer.serializeRequest(spans)!;
    const a = decodeTraceRequestProto(pb);
    const b = decodeTraceRequestJson(js);
    assert.equal(a.rejectedSpans, 0);
    assert.equal(b.rejectedSpans, 0);
    assert.deepEqual(norm(a.traces.resourceSpans()), norm(b.traces.resourceSpans()));
    const got = a.traces.resourceSpans()[0]!.scopeSpans[0]!;
    assert.equal(got.scope.name, 'codec-test');
    assert.equal(got.scope.version, '1.2.3');
    const c = got.spans.find((s) => s.name === 'child')!;
    assert.equal(c.parentSpanId, parent.spanContext().spanId);
    assert.equal(c.traceId, parent.spanContext().traceId);
    assert.deepEqual(c.status, { code: 2, message: 'boom' });
    assert.equal(c.links[0]!.spanId, parent.spanContext().spanId);
    await provider.shutdown();
  });
});

test('Reader.smallVarint: at most 7 bytes ending exactly at the end, else -1 with pos unchanged', () => {
  const at = (bytes: number[], end = bytes.length): [number, number] => {
    const r = new Reader(new Uint8Array(bytes));
    const n = r.smallVarint(end);
    return [n, r.pos];
  };
  assert.deepEqual(at([0x05]), [5, 1]);
  assert.deepEqual(at([0x80, 0x01]), [128, 2]);
  assert.deepEqual(at([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), [2 ** 49 - 1, 7]);
  assert.deepEqual(at([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), [-1, 0], '8 bytes');
  assert.deepEqual(at([0x05, 0x06]), [-1, 0], 'ends before `end`');
  assert.deepEqual(at([0x80, 0x80], 2), [-1, 0], 'runs past `end`');
  assert.deepEqual(at([0x05], 2), [-1, 0], '`end` past the reader\'s end');
});
