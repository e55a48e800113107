// End to end with the OpenTelemetry JS SDK's own exporters: five services (five tracer providers with their own
// resources), each exporting through an OTLP exporter (HTTP/protobuf, HTTP/JSON, gRPC, HTTP/protobuf+gzip,
// gRPC+gzip) to a real Skua process; one trace crosses all five services (W3C trace context propagated between them). The query APIs must
// return exactly what was sent, and the receiver's metrics must count the spans per transport.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROOT_CONTEXT,
  SpanKind as ApiSpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type AttributeValue,
  type Attributes,
  type Context,
  type HrTime,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { eventually, getJson, metricValue, startSkua, type Skua } from './e2e-skua.js';

// ---------------------------------------------------------------------------------------------------------------
// What the three services send

interface Service {
  name: string;
  provider: BasicTracerProvider;
  sent: InMemorySpanExporter;
  transport: 'http' | 'grpc';
}

function service(name: string, resource: Attributes, exporter: SpanExporter, transport: 'http' | 'grpc'): Service {
  const sent = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': name, ...resource }),
    spanProcessors: [
      new SimpleSpanProcessor(sent),
      // One export per forceFlush: nothing leaves before we flush, and forceFlush rejects if the export fails.
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000, maxExportBatchSize: 512 }),
    ],
  });
  return { name, provider, sent, transport };
}

const ALL_SERVICES = ['e2e-audit', 'e2e-ledger', 'e2e-notify', 'e2e-payments', 'e2e-web'];

const propagator = new W3CTraceContextPropagator();

/** What a client puts in its request headers, and what the server makes of them: a remote parent context. */
function overTheWire(parent: Span): Context {
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, parent), headers, defaultTextMapSetter);
  assert.match(headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

// All times are explicit (nanosecond precision, sub-microsecond parts included) and a minute in the past.
const base = BigInt(Date.now() - 60_000) * 1_000_000n;
function at(us: number, ns = 0): HrTime {
  const t = base + BigInt(us) * 1000n + BigInt(ns);
  return [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)];
}

const richAttributes: Attributes = {
  'http.request.method': 'GET',
  'http.response.status_code': 200,
  'app.ratio': 0.25,
  'app.cached': false,
  'app.big': 9_007_199_254_740_991,
  'app.tags': ['a', 'b c'],
  'app.ids': [1, 2, 3],
  'app.flags': [true, false],
  'app.scores': [1.5, 2.5],
  'app.unicode': 'Grüße, 世界',
};

interface Sent {
  traceA: string;
  traceB: string;
  webHealth: string;
  refund: string;
}

async function sendEverything(skua: Skua, services: Service[]): Promise<Sent> {
  const [web, payments, ledger, audit, notify] = services as [Service, Service, Service, Service, Service];
  const webT = web.provider.getTracer('e2e-web-scope', '0.1.0');
  const payT = payments.provider.getTracer('e2e-payments-scope', '2.0.0');
  const ledT = ledger.provider.getTracer('e2e-ledger-scope');
  const audT = audit.provider.getTracer('e2e-audit-scope', '3.1.4');
  const notT = notify.provider.getTracer('e2e-notify-scope', '0.0.1');

  // Trace B (ledger only), linked from trace A.
  const settle = ledT.startSpan('settle batch', {
    kind: ApiSpanKind.PRODUCER,
    startTime: at(0, 11),
    attributes: { 'batch.size': 42 },
  });
  settle.end(at(5_000, 22));

  // Trace A: web -> payments -> ledger.
  const checkout = webT.startSpan('GET /checkout', {
    kind: ApiSpanKind.SERVER,
    startTime: at(0, 321),
    attributes: richAttributes,
  });
  const checkoutCtx = trace.setSpan(ROOT_CONTEXT, checkout);
  const payClient = webT.startSpan(
    'POST /pay',
    { kind: ApiSpanKind.CLIENT, startTime: at(10_000, 1), attributes: { 'peer.service': 'e2e-payments' } },
    checkoutCtx,
  );
  const payServer = payT.startSpan(
    'POST /pay',
    { kind: ApiSpanKind.SERVER, startTime: at(12_000, 2), attributes: { 'http.route': '/pay', 'app.amount': 12.75 } },
    overTheWire(payClient),
  );
  const payCtx = trace.setSpan(ROOT_CONTEXT, payServer);
  const validate = payT.startSpan('validate card', { startTime: at(15_000, 3) }, payCtx);
  validate.addEvent('card.validated', { 'card.brand': 'visa', attempt: 1, 'risk.score': 0.125 }, at(20_000, 4));
  validate.addEvent('no attributes', at(21_000, 5));
  validate.end(at(25_000, 6));
  const ledgerClient = payT.startSpan(
    'ledger.Append',
    { kind: ApiSpanKind.CLIENT, startTime: at(30_000, 7) },
    payCtx,
  );
  const append = ledT.startSpan(
    'ledger.Append',
    {
      kind: ApiSpanKind.SERVER,
      startTime: at(31_000, 8),
      attributes: { 'rpc.system': 'grpc' },
      links: [{ context: settle.spanContext(), attributes: { 'link.reason': 'settles', 'link.count': 2 } }],
    },
    overTheWire(ledgerClient),
  );
  const write = ledT.startSpan('write entry', { startTime: at(40_000, 9) }, trace.setSpan(ROOT_CONTEXT, append));
  // The ledger publishes an audit record; the audit service consumes it (context carried in the message).
  const publish = ledT.startSpan(
    'audit publish',
    { kind: ApiSpanKind.PRODUCER, startTime: at(45_000, 17) },
    trace.setSpan(ROOT_CONTEXT, write),
  );
  publish.end(at(46_000, 18));
  const consume = audT.startSpan(
    'audit consume',
    { kind: ApiSpanKind.CONSUMER, startTime: at(90_000, 19), attributes: { 'messaging.system': 'kafka' } },
    overTheWire(publish),
  );
  consume.end(at(95_000, 20));
  write.recordException(Object.assign(new Error('disk full'), { name: 'IOError' }), at(59_000, 10));
  write.setStatus({ code: SpanStatusCode.ERROR, message: 'disk full' });
  write.end(at(60_000, 11));
  append.setStatus({ code: SpanStatusCode.ERROR });
  append.end(at(69_000, 12));
  ledgerClient.end(at(70_000, 13));
  const notifyClient = payT.startSpan('notify.Send', { kind: ApiSpanKind.CLIENT, startTime: at(71_000, 21) }, payCtx);
  const notifyServer = notT.startSpan(
    'notify.Send',
    { kind: ApiSpanKind.SERVER, startTime: at(72_000, 22), attributes: { 'rpc.service': 'notify' } },
    overTheWire(notifyClient),
  );
  notifyServer.addEvent('email queued', { 'email.to.count': 1 }, at(73_000, 23));
  notifyServer.end(at(76_000, 24));
  notifyClient.end(at(77_000, 25));
  payServer.end(at(78_000, 14));
  payClient.end(at(80_000, 15));
  checkout.setStatus({ code: SpanStatusCode.OK });
  checkout.end(at(100_000, 16));

  // One single-service trace for web and payments.
  const health = webT.startSpan('GET /health', { kind: ApiSpanKind.SERVER, startTime: at(200_000) });
  health.end(at(200_500));
  const refund = payT.startSpan('refund', { kind: ApiSpanKind.CONSUMER, startTime: at(300_000) });
  refund.end(at(310_000));

  // Every export must be acknowledged (forceFlush rejects when the exporter reports a failure).
  await Promise.all(services.map((s) => s.provider.forceFlush()));
  return {
    traceA: checkout.spanContext().traceId,
    traceB: settle.spanContext().traceId,
    webHealth: health.spanContext().traceId,
    refund: refund.spanContext().traceId,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Expected representations

const OTLP_KIND: Record<ApiSpanKind, number> = {
  [ApiSpanKind.INTERNAL]: 1,
  [ApiSpanKind.SERVER]: 2,
  [ApiSpanKind.CLIENT]: 3,
  [ApiSpanKind.PRODUCER]: 4,
  [ApiSpanKind.CONSUMER]: 5,
};
const JAEGER_KIND: Record<ApiSpanKind, string | undefined> = {
  [ApiSpanKind.INTERNAL]: undefined,
  [ApiSpanKind.SERVER]: 'server',
  [ApiSpanKind.CLIENT]: 'client',
  [ApiSpanKind.PRODUCER]: 'producer',
  [ApiSpanKind.CONSUMER]: 'consumer',
};

function nanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

type Norm = string | number | boolean | Norm[] | null;

/** An SDK attribute value in the typed form OTLP gives it: ints and doubles told apart, int64 as a string. */
function expectedValue(v: AttributeValue | undefined): Norm {
  if (Array.isArray(v)) return v.map((x) => expectedValue(x ?? undefined));
  if (typeof v === 'number') return Number.isInteger(v) ? `int:${v}` : `double:${v}`;
  if (typeof v === 'string') return `string:${v}`;
  if (typeof v === 'boolean') return `bool:${v}`;
  return null;
}

/** An OTLP/JSON AnyValue in the same form (int64 may be a JSON string or number). */
function otlpValue(v: any): Norm {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return `string:${v.stringValue}`;
  if ('intValue' in v) return `int:${String(v.intValue)}`;
  if ('doubleValue' in v) return `double:${Number(v.doubleValue)}`;
  if ('boolValue' in v) return `bool:${v.boolValue}`;
  if ('arrayValue' in v) return ((v.arrayValue?.values ?? []) as any[]).map(otlpValue);
  return JSON.stringify(v);
}

function expectedAttrs(a: Attributes): Record<string, Norm> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, expectedValue(v)]));
}
function otlpAttrs(list: any[] | undefined): Record<string, Norm> {
  return Object.fromEntries((list ?? []).map((kv: any) => [kv.key, otlpValue(kv.value)]));
}

/** A sent span as OTLP/JSON would carry it (normalised: defaults filled in, attributes typed). */
function expectedOtlp(s: ReadableSpan): Record<string, unknown> {
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? '',
    name: s.name,
    kind: OTLP_KIND[s.kind],
    startTimeUnixNano: String(nanos(s.startTime)),
    endTimeUnixNano: String(nanos(s.endTime)),
    attributes: expectedAttrs(s.attributes),
    events: s.events.map((e) => ({
      name: e.name,
      timeUnixNano: String(nanos(e.time)),
      attributes: expectedAttrs(e.attributes ?? {}),
    })),
    links: s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: expectedAttrs(l.attributes ?? {}),
    })),
    status: { code: s.status.code, message: s.status.message ?? '' },
    resource: expectedAttrs(s.resource.attributes),
    scope: { name: s.instrumentationScope.name, version: s.instrumentationScope.version ?? '' },
  };
}

/** A span from an API v3 answer, normalised the same way. */
function actualOtlp(span: any, resource: any, scope: any): Record<string, unknown> {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? '',
    name: span.name,
    kind: Number(span.kind ?? 0),
    startTimeUnixNano: String(span.startTimeUnixNano),
    endTimeUnixNano: String(span.endTimeUnixNano),
    attributes: otlpAttrs(span.attributes),
    events: ((span.events ?? []) as any[]).map((e) => ({
      name: e.name,
      timeUnixNano: String(e.timeUnixNano),
      attributes: otlpAttrs(e.attributes),
    })),
    links: ((span.links ?? []) as any[]).map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      attributes: otlpAttrs(l.attributes),
    })),
    status: { code: Number(span.status?.code ?? 0), message: span.status?.message ?? '' },
    resource: otlpAttrs(resource?.attributes),
    scope: { name: scope?.name ?? '', version: scope?.version ?? '' },
  };
}

function flattenV3(body: any): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const rs of body?.result?.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) out.push(actualOtlp(span, rs.resource, ss.scope));
    }
  }
  return out;
}

/** A Jaeger v1 tag for an SDK attribute value: typed primitives; arrays as a JSON string (as Jaeger does). */
function jaegerTag(key: string, v: AttributeValue): { key: string; type: string; value: unknown } {
  if (Array.isArray(v)) return { key, type: 'string', value: v };
  if (typeof v === 'string') return { key, type: 'string', value: v };
  if (typeof v === 'boolean') return { key, type: 'bool', value: v };
  return { key, type: Number.isInteger(v) ? 'int64' : 'float64', value: v };
}
/** Reads a v1 tag back into comparable form (a JSON-list string becomes the list). */
function readTag(t: any): { key: string; type: string; value: unknown } {
  let value = t.value;
  if (t.type === 'string' && typeof value === 'string' && value.startsWith('[')) {
    try {
      value = JSON.parse(value);
    } catch {
      // a plain string that starts with '['
    }
  }
  return { key: t.key, type: t.type, value };
}
function tagMap(tags: any[] | undefined): Map<string, { key: string; type: string; value: unknown }> {
  return new Map((tags ?? []).map((t: any) => [t.key as string, readTag(t)]));
}
/** ns -> µs, truncated or rounded (Jaeger's translator may do either). */
function assertMicros(actual: unknown, ns: bigint, what: string): void {
  const lo = Number(ns / 1000n);
  assert.ok(actual === lo || actual === lo + 1, `${what}: ${String(actual)} µs, expected ${lo} (from ${ns} ns)`);
}

// ---------------------------------------------------------------------------------------------------------------

describe('OpenTelemetry SDK exporters -> Skua -> query APIs', () => {
  let skua: Skua;
  let services: Service[];
  let sent: Sent;
  let all: ReadableSpan[];
  const byTrace = (id: string): ReadableSpan[] => all.filter((s) => s.spanContext().traceId === id);

  before(async () => {
    skua = await startSkua();
    services = [
      service(
        'e2e-web',
        { 'service.version': '1.2.3', 'deployment.environment.name': 'test', 'host.name': 'web-1', 'web.workers': 4 },
        new ProtoExporter({ url: `${skua.otlpHttp}/v1/traces` }),
        'http',
      ),
      service(
        'e2e-payments',
        { 'service.instance.id': 'pay-7', 'app.region.weight': 0.5 },
        new JsonExporter({ url: `${skua.otlpHttp}/v1/traces` }),
        'http',
      ),
      service(
        'e2e-ledger',
        { 'k8s.pod.name': 'ledger-0', 'app.flags': ['x', 'y'] },
        new GrpcExporter({ url: `http://${skua.otlpGrpc}` }),
        'grpc',
      ),
      service(
        'e2e-audit',
        { 'service.version': '9.9.9' },
        new ProtoExporter({ url: `${skua.otlpHttp}/v1/traces`, compression: CompressionAlgorithm.GZIP }),
        'http',
      ),
      service(
        'e2e-notify',
        { 'service.version': '0.0.1' },
        new GrpcExporter({ url: `http://${skua.otlpGrpc}`, compression: CompressionAlgorithm.GZIP }),
        'grpc',
      ),
    ];
    sent = await sendEverything(skua, services);
    all = services.flatMap((s) => s.sent.getFinishedSpans());
    assert.equal(all.length, 14);
  });

  after(async () => {
    await Promise.all((services ?? []).map((s) => s.provider.shutdown().catch(() => {})));
    if (skua) {
      const { code } = await skua.stop();
      assert.equal(code, 0, `skua exit code on SIGTERM; output:\n${skua.output().slice(-3000)}`);
    }
  });

  test('API v3 /api/v3/traces/{id} returns each trace exactly as sent, across services', async () => {
    for (const id of [sent.traceA, sent.traceB, sent.webHealth, sent.refund]) {
      const expected = byTrace(id).map(expectedOtlp);
      const actual = await eventually(async () => {
        const r = await getJson(`${skua.query}/api/v3/traces/${id}`);
        const spans = r.status === 200 ? flattenV3(r.body) : [];
        return spans.length >= expected.length ? spans : undefined;
      }, 15_000, `trace ${id} in API v3`);
      const key = (s: Record<string, unknown>): string => String(s.spanId);
      assert.deepEqual(
        [...actual].sort((a, b) => key(a).localeCompare(key(b))),
        [...expected].sort((a, b) => key(a).localeCompare(key(b))),
        `trace ${id}`,
      );
    }
    // The cross-service trace: every parent present, three services, one root.
    const a = byTrace(sent.traceA);
    const ids = new Set(a.map((s) => s.spanContext().spanId));
    assert.equal(a.filter((s) => !s.parentSpanContext).length, 1);
    for (const s of a) if (s.parentSpanContext) assert.ok(ids.has(s.parentSpanContext.spanId));
    assert.deepEqual(new Set(a.map((s) => s.resource.attributes['service.name'])), new Set(ALL_SERVICES));
  });

  test('API v1 /api/traces/{id}: Jaeger model with references, typed tags, logs and processes', async () => {
    const expected = byTrace(sent.traceA);
    const r = await eventually(async () => {
      const res = await getJson(`${skua.query}/api/traces/${sent.traceA}`);
      return res.status === 200 && res.body?.data?.[0]?.spans?.length >= expected.length ? res : undefined;
    }, 15_000, 'trace A in API v1');
    assert.equal(r.body.data.length, 1);
    const t = r.body.data[0];
    assert.equal(t.traceID, sent.traceA);
    assert.equal(t.spans.length, expected.length);
    assert.ok(!t.warnings || t.warnings.length === 0, `warnings: ${JSON.stringify(t.warnings)}`);

    for (const s of expected) {
      const ctx = s.spanContext();
      const js = t.spans.find((x: any) => x.spanID === ctx.spanId);
      assert.ok(js, `span ${s.name} (${ctx.spanId}) missing from v1 trace`);
      assert.equal(js.traceID, sent.traceA);
      assert.equal(js.operationName, s.name);
      assertMicros(js.startTime, nanos(s.startTime), `${s.name} startTime`);
      const dur = nanos(s.endTime) - nanos(s.startTime);
      assert.ok(Math.abs(js.duration - Number(dur) / 1000) <= 1, `${s.name} duration ${js.duration} µs vs ${dur} ns`);

      // References: the parent first (CHILD_OF), then the links (FOLLOWS_FROM).
      const refs = (js.references ?? []).map((x: any) => ({ refType: x.refType, traceID: x.traceID, spanID: x.spanID }));
      const expectedRefs = [
        ...(s.parentSpanContext ? [{ refType: 'CHILD_OF', traceID: sent.traceA, spanID: s.parentSpanContext.spanId }] : []),
        ...s.links.map((l) => ({ refType: 'FOLLOWS_FROM', traceID: l.context.traceId, spanID: l.context.spanId })),
      ];
      assert.deepEqual(refs, expectedRefs, `${s.name} references`);

      // Tags: every attribute, typed; span.kind; status.
      const tags = tagMap(js.tags);
      for (const [k, v] of Object.entries(s.attributes)) {
        assert.deepEqual(tags.get(k), jaegerTag(k, v!), `${s.name} tag ${k}`);
      }
      const kind = JAEGER_KIND[s.kind];
      if (kind) assert.deepEqual(tags.get('span.kind'), { key: 'span.kind', type: 'string', value: kind });
      else {
        // INTERNAL: the mapping spec says no tag; Jaeger's translator writes "internal". Either is fine.
        const k = tags.get('span.kind');
        assert.ok(k === undefined || k.value === 'internal', `${s.name}: span.kind ${JSON.stringify(k)} for INTERNAL`);
      }
      if (s.status.code === SpanStatusCode.ERROR) {
        assert.deepEqual(tags.get('otel.status_code'), { key: 'otel.status_code', type: 'string', value: 'ERROR' });
        assert.deepEqual(tags.get('error'), { key: 'error', type: 'bool', value: true });
        if (s.status.message) {
          assert.deepEqual(tags.get('otel.status_description'), {
            key: 'otel.status_description',
            type: 'string',
            value: s.status.message,
          });
        }
      } else if (s.status.code === SpanStatusCode.OK) {
        assert.deepEqual(tags.get('otel.status_code'), { key: 'otel.status_code', type: 'string', value: 'OK' });
        assert.equal(tags.get('error'), undefined);
      } else {
        assert.equal(tags.get('error'), undefined, `${s.name}: no error tag`);
      }
      const scopeName = tags.get('otel.scope.name') ?? tags.get('otel.library.name');
      assert.equal(scopeName?.value, s.instrumentationScope.name, `${s.name} scope name tag`);

      // Logs from events: timestamp in µs, the event name as field "event", the attributes as fields.
      assert.equal((js.logs ?? []).length, s.events.length, `${s.name} logs`);
      s.events.forEach((e, i) => {
        const log = js.logs[i];
        assertMicros(log.timestamp, nanos(e.time), `${s.name} log ${i} timestamp`);
        const fields = tagMap(log.fields);
        assert.deepEqual(fields.get('event'), { key: 'event', type: 'string', value: e.name });
        for (const [k, v] of Object.entries(e.attributes ?? {})) {
          assert.deepEqual(fields.get(k), jaegerTag(k, v!), `${s.name} log field ${k}`);
        }
      });

      // Process: the service name and the resource's other attributes as tags.
      const proc = t.processes[js.processID];
      assert.ok(proc, `${s.name}: process ${js.processID} missing`);
      assert.equal(proc.serviceName, s.resource.attributes['service.name']);
      const ptags = tagMap(proc.tags);
      for (const [k, v] of Object.entries(s.resource.attributes)) {
        if (k === 'service.name') continue;
        assert.deepEqual(ptags.get(k), jaegerTag(k, v!), `${s.name} process tag ${k}`);
      }
    }
    // The five services are five processes.
    const serviceNames = Object.values(t.processes).map((p: any) => p.serviceName).sort();
    assert.deepEqual(serviceNames, ALL_SERVICES);
  });

  test('API v1 /api/traces/{id} for an unknown id is a 404 with a JSON error', async () => {
    const r = await getJson(`${skua.query}/api/traces/0123456789abcdef0123456789abcdef`);
    assert.equal(r.status, 404);
    assert.equal(typeof r.body, 'object');
    assert.ok(Array.isArray(r.body.errors) && r.body.errors.length > 0, JSON.stringify(r.body));
  });

  test('API v1 /api/services and /api/traces?service= return exactly the sent services and their traces', async () => {
    const svcs = await eventually(async () => {
      const r = await getJson(`${skua.query}/api/services`);
      return r.status === 200 && r.body.data?.length >= ALL_SERVICES.length ? r.body : undefined;
    });
    assert.deepEqual([...svcs.data].sort(), ALL_SERVICES);
    assert.equal(svcs.total, ALL_SERVICES.length);

    const nowUs = Date.now() * 1000;
    const window = `start=${nowUs - 3_600_000_000}&end=${nowUs + 60_000_000}`;
    const cases: Array<[string, string[]]> = [
      ['e2e-web', [sent.traceA, sent.webHealth]],
      ['e2e-payments', [sent.traceA, sent.refund]],
      ['e2e-ledger', [sent.traceA, sent.traceB]],
      ['e2e-audit', [sent.traceA]],
      ['e2e-notify', [sent.traceA]],
    ];
    for (const [svc, traceIds] of cases) {
      const r = await getJson(`${skua.query}/api/traces?service=${svc}&limit=20&${window}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const got = (r.body.data as any[]).map((t) => t.traceID).sort();
      assert.deepEqual(got, [...traceIds].sort(), `traces of ${svc}`);
      for (const t of r.body.data as any[]) {
        // Whole traces, not just the spans of the searched service.
        assert.equal(t.spans.length, byTrace(t.traceID).length, `trace ${t.traceID} is whole in search results`);
      }
      // Newest first.
      const starts = (r.body.data as any[]).map((t) => Math.min(...t.spans.map((s: any) => s.startTime)));
      assert.deepEqual(starts, [...starts].sort((x, y) => y - x), `${svc}: newest first`);
    }

    const ops = await getJson(`${skua.query}/api/services/e2e-web/operations`);
    assert.equal(ops.status, 200);
    assert.deepEqual([...ops.body.data].sort(), ['GET /checkout', 'GET /health', 'POST /pay']);
    const serverOps = await getJson(`${skua.query}/api/operations?service=e2e-web&spanKind=server`);
    assert.equal(serverOps.status, 200);
    assert.deepEqual(
      (serverOps.body.data as any[]).map((o) => `${o.name}/${o.spanKind}`).sort(),
      ['GET /checkout/server', 'GET /health/server'],
    );
  });

  test('API v3 search by service returns the service traces', async () => {
    const min = new Date(Date.now() - 3_600_000).toISOString();
    const max = new Date(Date.now() + 60_000).toISOString();
    const r = await getJson(
      `${skua.query}/api/v3/traces?query.serviceName=e2e-ledger&query.startTimeMin=${min}&query.startTimeMax=${max}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const traceIds = new Set(flattenV3(r.body).map((s) => s.traceId));
    assert.deepEqual(traceIds, new Set([sent.traceA, sent.traceB]));
    assert.equal(flattenV3(r.body).length, byTrace(sent.traceA).length + byTrace(sent.traceB).length);
    const svcs = await getJson(`${skua.query}/api/v3/services`);
    assert.equal(svcs.status, 200);
    assert.deepEqual([...svcs.body.services].sort(), ALL_SERVICES);
  });

  test('metrics: otelcol_receiver_accepted_spans counts the spans of each transport', async () => {
    const httpSpans = services.filter((s) => s.transport === 'http').reduce((n, s) => n + s.sent.getFinishedSpans().length, 0);
    const grpcSpans = services.filter((s) => s.transport === 'grpc').reduce((n, s) => n + s.sent.getFinishedSpans().length, 0);
    const res = await fetch(skua.metricsUrl);
    assert.equal(res.status, 200);
    const text = await res.text();
    const accepted = (transport: string): number =>
      metricValue(text, 'otelcol_receiver_accepted_spans', { receiver: 'otlp', transport }) +
      metricValue(text, 'otelcol_receiver_accepted_spans_total', { receiver: 'otlp', transport });
    assert.equal(accepted('http'), httpSpans, 'accepted spans over OTLP/HTTP (protobuf, JSON, gzip)');
    assert.equal(accepted('grpc'), grpcSpans, 'accepted spans over OTLP/gRPC (plain and gzip)');
    assert.equal(
      metricValue(text, 'otelcol_receiver_refused_spans', { receiver: 'otlp' }) +
        metricValue(text, 'otelcol_receiver_refused_spans_total', { receiver: 'otlp' }),
      0,
    );
  });
});
