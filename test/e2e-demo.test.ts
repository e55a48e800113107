// End to end: the zero-code demo (four services under @opentelemetry/auto-instrumentations-node, configured only by
// OTEL_* variables) sends to a real Skua; every dispatch must arrive as one whole trace across all four services.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { driveLoad, startDemo, type Demo } from '../examples/demo/demo.js';
import { eventually, getJson, startSkua, type Skua } from './e2e-skua.js';

const REQUESTS = 12;
const SERVICES = ['customer', 'driver', 'frontend', 'route'];

let skua: Skua;
let demo: Demo | undefined;
const responses: Array<{ status: number; body: string }> = [];
const demoLog: string[] = [];

before(async () => {
  skua = await startSkua();
  demo = await startDemo({
    otlpHttpEndpoint: skua.otlpHttp,
    ports: { frontend: 0, customer: 0, driver: 0, route: 0 },
    // Failures often enough to see retries; no 0.5–0.9 s slow queries (keeps the test short); quick export.
    env: { DEMO_DRIVER_FAILURE_RATE: '0.3', DEMO_DB_SLOW_RATE: '0', OTEL_BSP_SCHEDULE_DELAY: '200' },
    log: (service, line) => demoLog.push(`[${service}] ${line}`),
  });
  await driveLoad(demo.frontendUrl, REQUESTS, { concurrency: 3, onResponse: (r) => responses.push(r) });
  // SIGTERM: each service flushes its spans before it exits.
  await demo.stop();
});

after(async () => {
  await demo?.stop();
  if (skua) await skua.stop();
});

function parents(span: any): string[] {
  return ((span.references ?? []) as any[]).filter((r) => r.refType === 'CHILD_OF').map((r) => r.spanID);
}

test('every dispatch arrives as one whole trace across frontend, customer, driver and route', async () => {
  assert.equal(responses.length, REQUESTS);
  const ok = responses.filter((r) => r.status === 200);
  assert.ok(ok.length > 0, `no dispatch succeeded: ${JSON.stringify(responses)}\n${demoLog.join('\n')}`);

  const services = await eventually(async () => {
    const r = await getJson(`${skua.query}/api/services`);
    return r.status === 200 && r.body.data?.length >= SERVICES.length ? r.body.data : undefined;
  }, 20_000, 'the four demo services');
  assert.deepEqual([...services].sort(), SERVICES);

  const nowUs = Date.now() * 1000;
  const url = `${skua.query}/api/traces?service=frontend&limit=100&start=${nowUs - 600_000_000}&end=${nowUs + 60_000_000}`;
  const traces: any[] = await eventually(async () => {
    const r = await getJson(url);
    return r.status === 200 && r.body.data?.length >= REQUESTS ? r.body.data : undefined;
  }, 20_000, `${REQUESTS} frontend traces`);
  // The demo's readiness check reads stdout, so the only frontend requests were the dispatches.
  assert.equal(traces.length, REQUESTS, 'one trace per dispatch');

  let withAllFour = 0;
  let retried = 0;
  for (const t of traces) {
    const ids = new Set((t.spans as any[]).map((s) => s.spanID));
    const serviceOf = (s: any): string => t.processes[s.processID]?.serviceName;
    const roots = (t.spans as any[]).filter((s) => parents(s).length === 0);
    assert.equal(roots.length, 1, `trace ${t.traceID}: exactly one root, got ${roots.map((s) => s.operationName)}`);
    assert.equal(serviceOf(roots[0]), 'frontend');
    assert.equal(roots[0].operationName, 'GET /dispatch');
    for (const s of t.spans as any[]) {
      for (const p of parents(s)) {
        assert.ok(ids.has(p), `trace ${t.traceID}: parent ${p} of ${serviceOf(s)} "${s.operationName}" is missing`);
      }
    }
    const inTrace = new Set((t.spans as any[]).map(serviceOf));
    for (const svc of ['frontend', 'customer', 'driver']) assert.ok(inTrace.has(svc), `trace ${t.traceID} lacks ${svc}`);
    if (SERVICES.every((s) => inTrace.has(s))) withAllFour++;

    // Server spans carry the express route as their name; cross-service children hang under client spans.
    const names = (svc: string): string[] => (t.spans as any[]).filter((s) => serviceOf(s) === svc).map((s) => s.operationName);
    assert.ok(names('customer').includes('GET /customer'));
    assert.ok(names('driver').includes('GET /drivers'));
    const failedDriverCalls = (t.spans as any[]).filter(
      (s) => serviceOf(s) === 'driver' && s.operationName === 'GET /drivers' && tag(s, 'error') === true,
    );
    if (failedDriverCalls.length > 0) {
      retried++;
      for (const s of failedDriverCalls) assert.equal(tag(s, 'http.response.status_code') ?? tag(s, 'http.status_code'), 500);
    }
  }
  // A dispatch succeeds exactly when its trace reached the route service.
  assert.equal(withAllFour, ok.length, 'traces that reached all four services = successful dispatches');
  const retriedResponses = ok.filter((r) => JSON.parse(r.body).driverAttempts > 1).length;
  assert.ok(retried >= retriedResponses, `retries visible as failed driver spans (${retried} vs ${retriedResponses})`);
});

test('the demo traces are whole in API v3 too, with the OTEL_* resource attributes', async () => {
  const nowUs = Date.now() * 1000;
  const r = await getJson(
    `${skua.query}/api/traces?service=route&limit=1&start=${nowUs - 600_000_000}&end=${nowUs + 60_000_000}`,
  );
  assert.equal(r.status, 200);
  const traceId: string = r.body.data[0].traceID;
  const v3 = await getJson(`${skua.query}/api/v3/traces/${traceId}`);
  assert.equal(v3.status, 200);
  const resources = (v3.body.result.resourceSpans as any[]).map((rs) =>
    Object.fromEntries((rs.resource.attributes as any[]).map((a) => [a.key, a.value.stringValue])),
  );
  assert.deepEqual(new Set(resources.map((a) => a['service.name'])), new Set(SERVICES));
  for (const a of resources) {
    assert.equal(a['service.namespace'], 'skua-demo');
    assert.equal(a['telemetry.sdk.language'], 'nodejs');
  }
  const spans = (v3.body.result.resourceSpans as any[]).flatMap((rs) => (rs.scopeSpans as any[]).flatMap((ss) => ss.spans));
  assert.equal(spans.length, r.body.data[0].spans.length, 'v1 and v3 return the same spans');
});

function tag(span: any, key: string): unknown {
  return ((span.tags ?? []) as any[]).find((t) => t.key === key)?.value;
}
