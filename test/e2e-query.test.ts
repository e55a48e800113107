// End to end for the query extension: a real Skua process configured the Jaeger v2 way (jaeger_query with a
// base_path, an archive backend, the Jaeger-only settings Skua accepts), two services exporting with the
// OpenTelemetry SDK's OTLP/HTTP protobuf exporter, then the API v1, API v3, dependencies and the built web UI,
// all under the base path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { stringify } from 'yaml';
import { eventually, getJson, repoRoot, startSkua, type Skua, type SkuaPorts } from './e2e-skua.js';

function jaegerStyleConfig(p: SkuaPorts): string {
  return stringify({
    extensions: {
      jaeger_storage: { backends: { some_storage: { memory: { max_traces: 1000 } }, another_storage: { memory: { max_traces: 10 } } } },
      jaeger_query: {
        storage: { traces: 'some_storage', traces_archive: 'another_storage' },
        base_path: '/jaeger',
        ui: { log_access: false },
        max_clock_skew_adjust: '0s',
        http: { endpoint: `127.0.0.1:${p.query}` },
      },
      healthcheckv2: { use_v2: true, http: { endpoint: `127.0.0.1:${p.health}` } },
    },
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.http}` } } } },
    processors: { batch: { timeout: '50ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'some_storage' } },
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
      telemetry: { metrics: { readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: p.metrics } } } }] } },
    },
  });
}

describe('e2e: jaeger_query under a base path', () => {
  let skua: Skua;
  let base: string;
  let traceId = '';
  const serviceA = `e2eq-web-${process.pid}`;
  const serviceB = `e2eq-db-${process.pid}`;

  before(async () => {
    skua = await startSkua({ config: jaegerStyleConfig });
    base = `${skua.query}/jaeger`;
    const providers = [serviceA, serviceB].map(
      (name) =>
        new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': name, 'host.name': `${name}-host` }),
          spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${skua.otlpHttp}/v1/traces` }))],
        }),
    );
    const now = Date.now() - 1000;
    const root = providers[0]!.getTracer('e2e-query', '1.0.0').startSpan('GET /order', { kind: SpanKind.SERVER, startTime: now, attributes: { 'http.response.status_code': 200 } });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    const client = providers[0]!.getTracer('e2e-query', '1.0.0').startSpan('SELECT orders', { kind: SpanKind.CLIENT, startTime: now + 1 }, ctx);
    const server = providers[1]!.getTracer('db-driver').startSpan('query', { kind: SpanKind.SERVER, startTime: now + 2 }, trace.setSpan(ROOT_CONTEXT, client));
    server.addEvent('rows', { count: 3 }, now + 3);
    server.end(now + 8);
    client.end(now + 9);
    root.end(now + 10);
    traceId = root.spanContext().traceId;
    await Promise.all(providers.map((p) => p.forceFlush()));
    await Promise.all(providers.map((p) => p.shutdown()));
  });

  after(async () => {
    await skua?.stop();
  });

  test('API v1 under the base path: search, trace, operations, dependencies', async () => {
    const found = await eventually(async () => {
      const r = await getJson(`${base}/api/traces?service=${serviceA}&lookback=1h`);
      return r.body?.data?.[0]?.spans?.length === 3 ? r.body : undefined;
    }, 15_000, 'the trace is searchable with all 3 spans');
    assert.equal(found.data[0].traceID, traceId);
    const r = await getJson(`${base}/api/traces/${traceId}`);
    assert.equal(r.status, 200);
    const tr = r.body.data[0];
    const byName = (n: string) => tr.spans.find((s: any) => s.operationName === n);
    const q = byName('query');
    assert.equal(tr.processes[q.processID].serviceName, serviceB);
    assert.deepEqual(tr.processes[q.processID].tags, [{ key: 'host.name', type: 'string', value: `${serviceB}-host` }]);
    assert.deepEqual(q.references, [{ refType: 'CHILD_OF', traceID: traceId, spanID: byName('SELECT orders').spanID }]);
    assert.ok(q.tags.some((t: any) => t.key === 'otel.scope.name' && t.value === 'db-driver'));
    assert.deepEqual(q.logs[0].fields, [
      { key: 'event', type: 'string', value: 'rows' },
      { key: 'count', type: 'int64', value: 3 },
    ]);
    assert.equal(byName('GET /order').duration, 10_000);
    assert.deepEqual((await getJson(`${base}/api/services/${serviceA}/operations`)).body.data, ['GET /order', 'SELECT orders']);
    assert.deepEqual((await getJson(`${base}/api/operations?service=${serviceB}&spanKind=server`)).body.data, [{ name: 'query', spanKind: 'server' }]);
    const deps = (await getJson(`${base}/api/dependencies?endTs=${Date.now()}&lookback=3600000`)).body.data;
    assert.deepEqual(deps.filter((d: any) => d.parent === serviceA), [{ parent: serviceA, child: serviceB, callCount: 1 }]);
    assert.equal((await getJson(`${skua.query}/api/services`)).status, 404, 'nothing outside the base path');
    const bad = await getJson(`${base}/api/traces?service=${serviceA}&minDuration=soon`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].msg, /minDuration/);
  });

  test('API v3 under the base path', async () => {
    const min = new Date(Date.now() - 3_600_000).toISOString();
    const max = new Date(Date.now() + 60_000).toISOString();
    const r = await eventually(async () => {
      const x = await getJson(`${base}/api/v3/traces?query.serviceName=${serviceB}&query.startTimeMin=${min}&query.startTimeMax=${max}`);
      return x.status === 200 ? x : undefined;
    });
    const spans = r.body.result.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans));
    assert.equal(spans.length, 3);
    assert.ok(spans.every((s: any) => s.traceId === traceId));
    assert.equal((await getJson(`${base}/api/v3/traces/${traceId}`)).status, 200);
    const missing = await getJson(`${base}/api/v3/traces/${'ab'.repeat(16)}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.httpCode, 404);
    assert.deepEqual((await getJson(`${base}/api/v3/services`)).body.services.filter((s: string) => s.startsWith('e2eq-')).sort(), [serviceB, serviceA].sort());
  });

  test('the web UI under the base path (or the "not built" page)', async () => {
    const dist = join(repoRoot, 'ui', 'dist');
    const index = await fetch(`${base}/trace/${traceId}`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    const html = await index.text();
    if (existsSync(join(dist, 'index.html'))) {
      assert.match(html, /window.__SKUA_BASE_PATH__="\/jaeger\/"/);
      assert.equal(index.headers.get('cache-control'), 'no-cache');
      // Every asset the built index.html references is served with its type and immutable caching.
      const assets = [...readFileSync(join(dist, 'index.html'), 'utf8').matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.ok(assets.length > 0, 'the build references assets');
      for (const a of assets) {
        const res = await fetch(`${base}/${a}`);
        assert.equal(res.status, 200, a);
        assert.match(res.headers.get('content-type') ?? '', a.endsWith('.css') ? /^text\/css/ : /^text\/javascript/, a);
        assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', a);
        await res.arrayBuffer();
      }
    } else {
      assert.match(html, /UI was not built/);
    }
    const redirect = await fetch(`${skua.query}/`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/jaeger/');
    assert.ok(skua.alive());
  });
});
