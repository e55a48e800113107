/**
 * The query HTTP API end to end, in process: the handler on a real socket over the real memory
 * backend, loaded with a small multi-service data set. Covers every endpoint and parameter of
 * API v1 and v3, bad parameters (400 naming the parameter), 404s, the Jaeger JSON model,
 * adjusters, tenancy, base_path and the UI's static files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, StatusCode, type KeyValue, type SpanId, type TraceId } from '../pdata/model.js';
import { MemoryStore } from '../storage/memory/memory.js';
import { baseTime, bool, dbl, int, makeResourceSpans, makeSpan, newSpanId, newTraceId, str, traces } from '../storage/conformance.js';
import { nopLogger } from '../telemetry/logger.js';
import { freePort } from '../testutil/ports.js';
import { createQueryHandler, type QueryHandlerOptions } from './handler.js';
import type { JaegerSpan, JaegerTrace } from './jaeger-json.js';
import { QueryService, type QueryServiceOptions } from './service.js';

const MS = 1_000_000n;
const SEC = 1000n * MS;
const ctx = { tenant: '' };
const us = (ns: bigint) => Number(ns / 1000n);

interface Running {
  url: string;
  close(): Promise<void>;
}

async function serve(store: MemoryStore, opts: Partial<Omit<QueryHandlerOptions, 'service'>> & { adjust?: QueryServiceOptions } = {}): Promise<Running> {
  const { adjust: serviceOpts, ...rest } = opts;
  const handler = createQueryHandler({
    service: new QueryService(store, serviceOpts),
    basePath: '/',
    logger: nopLogger(),
    ...rest,
  });
  const server: Server = createServer(handler);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(base + path, { headers, redirect: 'manual' });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

// ---------------------------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------------------------

const t0 = baseTime();
const ids = {
  a: newTraceId(), // frontend → customer, rich fields, newest
  b: newTraceId(), // frontend health check, error, 10 min older
  c: newTraceId(), // driver, slow, orphan child, resource without service.name, 20 min older
  d: '00000000000000001234567890abcdef' as TraceId, // legacy, a span written twice, 30 min older
  e: newTraceId(), // frontend, 3 h before now
};
const sp = {
  rootA: newSpanId(),
  clientA: newSpanId(),
  serverA: newSpanId(),
  renderA: newSpanId(),
  rootB: newSpanId(),
  linkedB: newSpanId(),
};
const missingParent = newSpanId();
const eStart = (BigInt(Date.now()) - 3n * 3600n * 1000n) * MS;
const feResource: KeyValue[] = [str('host.name', 'fe-host'), int('process.pid', 4242)];
const richAttrs: KeyValue[] = [
  str('http.method', 'GET'),
  int('http.status_code', 200),
  bool('cache.hit', false),
  dbl('ratio', 0.25),
  { key: 'payload', value: { bytesValue: new Uint8Array([1, 2, 3]) } },
  { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1n }] } } },
  { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
];

async function seed(store: MemoryStore): Promise<void> {
  const rootA = makeSpan({
    traceId: ids.a,
    spanId: sp.rootA,
    name: 'HTTP GET /dispatch',
    kind: SpanKind.SERVER,
    start: t0,
    duration: 100n * MS,
    attributes: richAttrs,
    traceState: 'vendor=x',
    flags: 0x101,
    status: { code: StatusCode.OK, message: '' },
    events: [
      { timeUnixNano: t0 + 6n * MS, name: 'second', attributes: [], droppedAttributesCount: 0 },
      { timeUnixNano: t0 + 5n * MS, name: 'cache miss', attributes: [str('key', 'customer:123'), int('attempt', 2)], droppedAttributesCount: 0 },
    ],
  });
  const clientA = makeSpan({
    traceId: ids.a,
    spanId: sp.clientA,
    parentSpanId: sp.rootA,
    name: 'HTTP GET customer',
    kind: SpanKind.CLIENT,
    start: t0 + 10n * MS,
    duration: 50n * MS,
    links: [
      { traceId: ids.b, spanId: sp.linkedB, traceState: '', attributes: [str('link.reason', 'retry')], droppedAttributesCount: 0, flags: 0 },
      { traceId: ids.a, spanId: sp.rootA, traceState: '', attributes: [str('opentracing.ref_type', 'child_of')], droppedAttributesCount: 0, flags: 0 },
    ],
    flags: 0,
  });
  const scope = { name: 'io.opentelemetry.http', version: '1.2.3' };
  await store.writeTraces(traces(makeResourceSpans({ service: 'frontend', resourceAttributes: feResource, scope }, [rootA, clientA])), ctx);
  // The customer service exports on its own; so does a second frontend process with the same resource.
  await store.writeTraces(
    traces(
      makeResourceSpans({ service: 'customer', resourceAttributes: [str('host.name', 'cust-host')], scope }, [
        makeSpan({
          traceId: ids.a,
          spanId: sp.serverA,
          parentSpanId: sp.clientA,
          name: 'GET /customer',
          kind: SpanKind.SERVER,
          start: t0 + 12n * MS,
          duration: 40n * MS,
          status: { code: StatusCode.ERROR, message: 'db timeout' },
          attributes: [str('error.type', 'timeout')],
        }),
      ]),
    ),
    ctx,
  );
  await store.writeTraces(
    traces(
      makeResourceSpans({ service: 'frontend', resourceAttributes: feResource, scope: { name: '', version: '' } }, [
        makeSpan({ traceId: ids.a, spanId: sp.renderA, parentSpanId: sp.rootA, name: 'render', kind: SpanKind.UNSPECIFIED, start: t0 + 70n * MS, duration: 5n * MS }),
      ]),
    ),
    ctx,
  );
  await store.writeTraces(
    traces(
      makeResourceSpans({ service: 'frontend', resourceAttributes: feResource }, [
        makeSpan({
          traceId: ids.b,
          spanId: sp.rootB,
          name: 'HTTP GET /health',
          kind: SpanKind.SERVER,
          start: t0 - 600n * SEC,
          duration: 1n * MS,
          attributes: [int('http.status_code', 500)],
          status: { code: StatusCode.ERROR, message: '' },
        }),
        makeSpan({ traceId: ids.b, spanId: sp.linkedB, parentSpanId: sp.rootB, name: 'check', start: t0 - 600n * SEC + 100n, duration: 500n * 1000n }),
      ]),
      makeResourceSpans({ service: 'driver' }, [
        makeSpan({ traceId: ids.c, name: 'find driver', kind: SpanKind.SERVER, start: t0 - 1200n * SEC, duration: 2n * SEC, attributes: [dbl('temperature', 72.5)] }),
        makeSpan({ traceId: ids.c, parentSpanId: missingParent, name: 'orphan', start: t0 - 1200n * SEC + MS, duration: MS }),
      ]),
    ),
    ctx,
  );
  await store.writeTraces(
    traces({
      resource: { attributes: [], droppedAttributesCount: 0 },
      scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, spans: [makeSpan({ traceId: ids.c, name: 'anonymous', start: t0 - 1200n * SEC + 2n * MS })], schemaUrl: '' }],
      schemaUrl: '',
    }),
    ctx,
  );
  const dup = makeSpan({ traceId: ids.d, name: 'legacy op', kind: SpanKind.SERVER, start: t0 - 1800n * SEC, duration: 3n * MS });
  await store.writeTraces(traces(makeResourceSpans({ service: 'legacy' }, [dup])), ctx);
  await store.writeTraces(traces(makeResourceSpans({ service: 'legacy' }, [dup])), ctx); // a retried batch
  await store.writeTraces(traces(makeResourceSpans({ service: 'frontend', resourceAttributes: feResource }, [makeSpan({ traceId: ids.e, name: 'HTTP GET /old', kind: SpanKind.SERVER, start: eStart })])), ctx);
}

function span(tr: JaegerTrace, id: SpanId): JaegerSpan {
  const s = tr.spans.find((x) => x.spanID === id);
  assert.ok(s, `span ${id} in trace ${tr.traceID}`);
  return s;
}
const traceIds = (body: any): string[] => (body.data as JaegerTrace[]).map((t) => t.traceID);

// ---------------------------------------------------------------------------------------------

describe('query API', () => {
  const store = new MemoryStore({ maxTraces: 1000 });
  let api: Running;

  before(async () => {
    await store.start();
    await seed(store);
    api = await serve(store);
  });
  after(async () => {
    await api.close();
    await store.close();
  });

  describe('API v1', () => {
    test('GET /api/services: sorted, in the envelope', async () => {
      const r = await get(api.url, '/api/services');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      // The span without service.name is stored but has no service to list.
      assert.deepEqual(r.body, { data: ['customer', 'driver', 'frontend', 'legacy'], total: 4, limit: 0, offset: 0, errors: null });
    });

    test('GET /api/services/{service}/operations: unique names', async () => {
      const r = await get(api.url, '/api/services/frontend/operations');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data, ['HTTP GET /dispatch', 'HTTP GET /health', 'HTTP GET /old', 'HTTP GET customer', 'check', 'render']);
      assert.equal(r.body.total, 6);
      assert.deepEqual((await get(api.url, '/api/services/nope/operations')).body.data, []);
      assert.deepEqual((await get(api.url, `/api/services/${encodeURIComponent('no such/service')}/operations`)).body.data, []);
    });

    test('GET /api/operations?service=&spanKind=', async () => {
      const all = await get(api.url, '/api/operations?service=frontend');
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.data.find((o: any) => o.name === 'HTTP GET customer'), { name: 'HTTP GET customer', spanKind: 'client' });
      assert.equal(all.body.total, all.body.data.length);
      const server = await get(api.url, '/api/operations?service=frontend&spanKind=server');
      assert.deepEqual(server.body.data, [
        { name: 'HTTP GET /dispatch', spanKind: 'server' },
        { name: 'HTTP GET /health', spanKind: 'server' },
        { name: 'HTTP GET /old', spanKind: 'server' },
      ]);
      const missing = await get(api.url, '/api/operations');
      assert.equal(missing.status, 400);
      assert.match(missing.body.errors[0].msg, /service/);
      const bad = await get(api.url, '/api/operations?service=frontend&spanKind=sideways');
      assert.equal(bad.status, 400);
      assert.match(bad.body.errors[0].msg, /spanKind/);
    });

    test('GET /api/traces/{traceID}: the Jaeger JSON trace model', async () => {
      const r = await get(api.url, `/api/traces/${ids.a}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.errors, null);
      assert.equal(r.body.data.length, 1);
      const tr: JaegerTrace = r.body.data[0];
      assert.equal(tr.traceID, ids.a);
      assert.equal(tr.spans.length, 4);
      assert.equal(tr.warnings, null);

      // Processes: one per distinct resource (two frontend batches share one), service.name lifted out.
      const procs = Object.entries(tr.processes);
      assert.equal(procs.length, 2);
      const fePid = procs.find(([, p]) => p.serviceName === 'frontend')![0];
      const custPid = procs.find(([, p]) => p.serviceName === 'customer')![0];
      assert.match(fePid, /^p\d+$/);
      assert.deepEqual(tr.processes[fePid], {
        serviceName: 'frontend',
        tags: [
          { key: 'host.name', type: 'string', value: 'fe-host' },
          { key: 'process.pid', type: 'int64', value: 4242 },
        ],
      });
      assert.deepEqual(tr.processes[custPid]!.tags, [{ key: 'host.name', type: 'string', value: 'cust-host' }]);

      const root = span(tr, sp.rootA);
      assert.deepEqual(Object.keys(root), ['traceID', 'spanID', 'flags', 'operationName', 'references', 'startTime', 'duration', 'tags', 'logs', 'processID', 'warnings']);
      assert.equal(root.traceID, ids.a);
      assert.equal(root.operationName, 'HTTP GET /dispatch');
      assert.equal(root.flags, 1);
      assert.deepEqual(root.references, []);
      assert.equal(root.startTime, us(t0));
      assert.equal(root.duration, 100_000);
      assert.equal(root.processID, fePid);
      assert.equal(root.warnings, null);
      assert.deepEqual(root.tags, [
        { key: 'otel.scope.name', type: 'string', value: 'io.opentelemetry.http' },
        { key: 'otel.scope.version', type: 'string', value: '1.2.3' },
        { key: 'cache.hit', type: 'bool', value: false },
        { key: 'http.method', type: 'string', value: 'GET' },
        { key: 'http.status_code', type: 'int64', value: 200 },
        { key: 'list', type: 'string', value: '["a",1]' },
        { key: 'map', type: 'string', value: '{"k":"v"}' },
        { key: 'payload', type: 'binary', value: 'AQID' },
        { key: 'ratio', type: 'float64', value: 0.25 },
        { key: 'span.kind', type: 'string', value: 'server' },
        { key: 'otel.status_code', type: 'string', value: 'OK' },
        { key: 'w3c.tracestate', type: 'string', value: 'vendor=x' },
      ]);
      // Logs from events, sorted by time, the name as `event`.
      assert.deepEqual(root.logs, [
        {
          timestamp: us(t0 + 5n * MS),
          fields: [
            { key: 'event', type: 'string', value: 'cache miss' },
            { key: 'attempt', type: 'int64', value: 2 },
            { key: 'key', type: 'string', value: 'customer:123' },
          ],
        },
        { timestamp: us(t0 + 6n * MS), fields: [{ key: 'event', type: 'string', value: 'second' }] },
      ]);

      // References: the parent CHILD_OF first; links FOLLOWS_FROM; a link to the parent retypes it.
      const client = span(tr, sp.clientA);
      assert.equal('flags' in client, false, 'flags 0 is omitted');
      assert.deepEqual(client.references, [
        { refType: 'CHILD_OF', traceID: ids.a, spanID: sp.rootA },
        { refType: 'FOLLOWS_FROM', traceID: ids.b, spanID: sp.linkedB },
      ]);
      assert.ok(client.tags.some((t) => t.key === 'span.kind' && t.value === 'client'));

      // Status ERROR: otel.status_code, error=true, otel.status_description.
      const server = span(tr, sp.serverA);
      assert.equal(server.processID, custPid);
      assert.deepEqual(server.tags.slice(-4), [
        { key: 'span.kind', type: 'string', value: 'server' },
        { key: 'otel.status_code', type: 'string', value: 'ERROR' },
        { key: 'error', type: 'bool', value: true },
        { key: 'otel.status_description', type: 'string', value: 'db timeout' },
      ]);

      // UNSPECIFIED kind and an empty scope add no tags.
      const render = span(tr, sp.renderA);
      assert.deepEqual(render.tags, []);
      assert.equal(render.processID, fePid);

      // Spans come sorted by start time.
      assert.deepEqual(tr.spans.map((s) => s.spanID), [sp.rootA, sp.clientA, sp.serverA, sp.renderA]);
    });

    test('GET /api/traces/{traceID}: short, upper-case ids; 404; malformed id', async () => {
      const short = await get(api.url, '/api/traces/1234567890ABCDEF');
      assert.equal(short.status, 200);
      assert.equal(short.body.data[0].traceID, ids.d);
      const missing = await get(api.url, `/api/traces/${newTraceId()}`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: 404, msg: 'trace not found' }] });
      const bad = await get(api.url, '/api/traces/not-a-trace-id');
      assert.equal(bad.status, 400);
      assert.match(bad.body.errors[0].msg, /traceID/);
    });

    test('adjusters: duplicates removed, missing parents and clock skew reported; raw=true skips them', async () => {
      const d = (await get(api.url, `/api/traces/${ids.d}`)).body.data[0] as JaegerTrace;
      assert.equal(d.spans.length, 1, 'a span written twice is returned once');
      const raw = (await get(api.url, `/api/traces/${ids.d}?raw=true`)).body.data[0] as JaegerTrace;
      assert.equal(raw.spans.length, 2, 'raw returns what is stored');

      const c = (await get(api.url, `/api/traces/${ids.c}`)).body.data[0] as JaegerTrace;
      const orphan = c.spans.find((s) => s.operationName === 'orphan')!;
      assert.deepEqual(orphan.warnings, [`parent span ID=${missingParent} is not in the trace; skipping clock skew adjustment`]);
      assert.deepEqual(orphan.references, [{ refType: 'CHILD_OF', traceID: ids.c, spanID: missingParent }]);
      const anon = c.spans.find((s) => s.operationName === 'anonymous')!;
      assert.equal(c.processes[anon.processID]!.serviceName, 'OTLPResourceNoServiceName');
      assert.deepEqual(c.processes[anon.processID]!.tags, []);
      assert.equal((await get(api.url, `/api/traces/${ids.c}?raw=1`)).body.data[0].spans.find((s: JaegerSpan) => s.operationName === 'orphan').warnings, null);
      assert.equal((await get(api.url, `/api/traces/${ids.c}?raw=maybe`)).status, 400);
    });

    test('search by service: newest first, whole traces, default lookback 2 days', async () => {
      const r = await get(api.url, '/api/traces?service=frontend');
      assert.equal(r.status, 200);
      assert.deepEqual(traceIds(r.body), [ids.a, ids.b, ids.e]);
      assert.equal(r.body.limit, 20);
      assert.equal(r.body.total, 3);
      assert.equal(r.body.errors, null);
      const a = (r.body.data as JaegerTrace[])[0]!;
      assert.equal(a.spans.length, 4, 'the customer span of the trace is included');
      assert.deepEqual(traceIds((await get(api.url, '/api/traces?service=customer')).body), [ids.a]);
      assert.deepEqual(traceIds((await get(api.url, '/api/traces?service=nope')).body), []);
    });

    test('search: operation, tags JSON, tag=k:v, typed values', async () => {
      const q = async (qs: string) => traceIds((await get(api.url, `/api/traces?${qs}`)).body);
      assert.deepEqual(await q('service=frontend&operation=HTTP%20GET%20%2Fhealth'), [ids.b]);
      assert.deepEqual(await q(`service=frontend&tags=${encodeURIComponent('{"http.status_code":"500"}')}`), [ids.b]);
      assert.deepEqual(await q(`service=frontend&tags=${encodeURIComponent('{"http.status_code":200,"cache.hit":false}')}`), [ids.a]);
      assert.deepEqual(await q('service=frontend&tag=http.status_code:200&tag=http.method:GET'), [ids.a]);
      assert.deepEqual(await q('service=frontend&tag=http.status_code:200&tag=http.method:POST'), []);
      assert.deepEqual(await q('tag=temperature:72.5'), [ids.c]);
      assert.deepEqual(await q('service=customer&tag=error.type:timeout'), [ids.a]);
      // tag values may contain ':'; tags and tag combine.
      assert.deepEqual(await q(`tag=key:customer:123&tags=${encodeURIComponent('{"attempt":"2"}')}`), [ids.a]);
      // Attributes must be on one span: http.method (root) and error.type (customer span) are not.
      assert.deepEqual(await q('tag=http.method:GET&tag=error.type:timeout'), []);
    });

    test('search: durations, start/end (µs), lookback, limit, without service', async () => {
      const q = async (qs: string) => traceIds((await get(api.url, `/api/traces?${qs}`)).body);
      assert.deepEqual(await q('service=frontend&minDuration=50ms'), [ids.a]);
      assert.deepEqual(await q('service=frontend&minDuration=1.5ms&maxDuration=2s'), [ids.a]);
      assert.deepEqual(await q('service=frontend&maxDuration=600us'), [ids.b]);
      assert.deepEqual(await q('minDuration=1m'), []);
      assert.deepEqual(await q('minDuration=2s'), [ids.c]);
      assert.deepEqual(await q('service=frontend&minDuration=&maxDuration='), [ids.a, ids.b, ids.e], 'empty values do not restrict (Jaeger UI sends them)');
      assert.deepEqual(await q('service=frontend&lookback=2h'), [ids.a, ids.b], 'a trace 3 h old is outside 2h');
      assert.deepEqual(await q('service=frontend&lookback=30m'), [], 'the data set is older than 30 min');
      assert.deepEqual(await q('service=frontend&lookback=2d'), [ids.a, ids.b, ids.e]);
      const start = us(t0 - 700n * SEC);
      const end = us(t0 - 500n * SEC);
      assert.deepEqual(await q(`service=frontend&start=${start}&end=${end}`), [ids.b]);
      assert.deepEqual(await q(`service=frontend&lookback=custom&start=${start}&end=${end}`), [ids.b]);
      assert.deepEqual(await q(`service=frontend&end=${us(t0 - SEC)}`), [ids.b, ids.e]);
      assert.deepEqual(await q('service=frontend&limit=2'), [ids.a, ids.b]);
      assert.deepEqual(await q('limit=3'), [ids.a, ids.b, ids.c], 'search without a service');
      assert.deepEqual(await q('operation=orphan'), [ids.c]);
    });

    test('search by traceID (repeated): found traces in order, missing ones as errors', async () => {
      const missing = newTraceId();
      const r = await get(api.url, `/api/traces?traceID=${ids.b}&traceID=${missing}&traceID=${ids.a}`);
      assert.equal(r.status, 200);
      assert.deepEqual(traceIds(r.body), [ids.b, ids.a]);
      assert.deepEqual(r.body.errors, [{ msg: 'trace not found', traceID: missing }]);
      const bad = await get(api.url, '/api/traces?traceID=zz');
      assert.equal(bad.status, 400);
      assert.match(bad.body.errors[0].msg, /traceID/);
    });

    test('bad search parameters: 400 naming the parameter', async () => {
      const cases: [string, string][] = [
        ['limit=abc', 'limit'],
        ['limit=0', 'limit'],
        ['limit=100001', 'limit'],
        ['start=yesterday', 'start'],
        ['end=-5', 'end'],
        [`start=${us(t0)}&end=${us(t0 - SEC)}`, 'start'],
        ['minDuration=fast', 'minDuration'],
        ['maxDuration=10', 'maxDuration'],
        ['minDuration=-1s', 'minDuration'],
        ['minDuration=2s&maxDuration=1s', 'maxDuration'],
        ['tags=not-json', 'tags'],
        [`tags=${encodeURIComponent('["a"]')}`, 'tags'],
        [`tags=${encodeURIComponent('{"a":{"b":1}}')}`, 'tags'],
        ['tag=novalue', 'tag'],
        ['lookback=soon', 'lookback'],
        ['spanKind=up', 'spanKind'],
      ];
      for (const [qs, param] of cases) {
        const r = await get(api.url, `/api/traces?service=frontend&${qs}`);
        assert.equal(r.status, 400, qs);
        assert.equal(r.body.data, null, qs);
        assert.equal(r.body.errors[0].code, 400, qs);
        assert.ok(r.body.errors[0].msg.includes(param), `${qs}: ${r.body.errors[0].msg}`);
      }
    });

    test('GET /api/dependencies?endTs=&lookback= (ms)', async () => {
      const r = await get(api.url, '/api/dependencies');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data, [{ parent: 'frontend', child: 'customer', callCount: 1 }]);
      const endTs = Number((t0 + 60n * SEC) / MS);
      assert.deepEqual((await get(api.url, `/api/dependencies?endTs=${endTs}&lookback=120000`)).body.data, [{ parent: 'frontend', child: 'customer', callCount: 1 }]);
      assert.deepEqual((await get(api.url, `/api/dependencies?endTs=${endTs - 120_000}&lookback=60000`)).body.data, [], 'a window before the calls');
      assert.deepEqual((await get(api.url, '/api/dependencies?service=customer')).body.data.length, 1);
      assert.deepEqual((await get(api.url, '/api/dependencies?service=driver')).body.data, []);
      for (const [qs, param] of [
        ['endTs=now', 'endTs'],
        ['lookback=1h', 'lookback'],
        ['lookback=0', 'lookback'],
      ]) {
        const bad = await get(api.url, `/api/dependencies?${qs}`);
        assert.equal(bad.status, 400, qs);
        assert.ok(bad.body.errors[0].msg.includes(param!), bad.body.errors[0].msg);
      }
    });

    test('unknown API paths are 404, other methods 405, prettyPrint indents', async () => {
      const r = await get(api.url, '/api/nothing');
      assert.equal(r.status, 404);
      assert.equal(r.body.errors[0].code, 404);
      const post = await fetch(`${api.url}/api/services`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      assert.equal(((await post.json()) as { errors: { code: number }[] }).errors[0]!.code, 405);
      const pretty = await get(api.url, '/api/services?prettyPrint=true');
      assert.match(pretty.text, /\n {2}"data"/);
      const head = await fetch(`${api.url}/api/services`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
    });
  });

  describe('API v3', () => {
    const window = (from: bigint, to: bigint) =>
      `query.startTimeMin=${new Date(Number(from / MS)).toISOString()}&query.startTimeMax=${new Date(Number(to / MS) + 1).toISOString()}`;

    test('GET /api/v3/services and /api/v3/operations', async () => {
      const s = await get(api.url, '/api/v3/services');
      assert.equal(s.status, 200);
      for (const x of ['customer', 'driver', 'frontend', 'legacy']) assert.ok(s.body.services.includes(x));
      const ops = await get(api.url, '/api/v3/operations?service=frontend&spanKind=client');
      assert.deepEqual(ops.body, { operations: [{ name: 'HTTP GET customer', spanKind: 'client' }] });
      const alias = await get(api.url, '/api/v3/operations?service=frontend&span_kind=server');
      assert.equal(alias.body.operations.length, 3);
      assert.equal((await get(api.url, '/api/v3/operations?service=frontend')).body.operations.length, 6);
      const noService = await get(api.url, '/api/v3/operations');
      assert.equal(noService.status, 400);
      assert.deepEqual(Object.keys(noService.body), ['error']);
      assert.equal(noService.body.error.httpCode, 400);
      assert.match(noService.body.error.message, /service/);
      const badKind = await get(api.url, '/api/v3/operations?service=frontend&spanKind=nope');
      assert.equal(badKind.status, 400);
      assert.match(badKind.body.error.message, /spanKind/);
    });

    test('GET /api/v3/traces/{traceId}: OTLP JSON', async () => {
      const r = await get(api.url, `/api/v3/traces/${ids.a}`);
      assert.equal(r.status, 200);
      const rs = r.body.result.resourceSpans as any[];
      const spans = rs.flatMap((x) => x.scopeSpans.flatMap((ss: any) => ss.spans));
      assert.equal(spans.length, 4);
      const root = spans.find((s: any) => s.spanId === sp.rootA);
      assert.equal(root.traceId, ids.a);
      assert.equal(root.kind, 2);
      assert.equal(root.startTimeUnixNano, String(t0));
      assert.equal(root.endTimeUnixNano, String(t0 + 100n * MS));
      assert.equal(root.traceState, 'vendor=x');
      assert.equal(root.flags, 0x101);
      assert.deepEqual(root.status, { code: 1 });
      assert.deepEqual(root.attributes.find((a: any) => a.key === 'http.status_code'), { key: 'http.status_code', value: { intValue: '200' } });
      assert.deepEqual(root.attributes.find((a: any) => a.key === 'payload'), { key: 'payload', value: { bytesValue: 'AQID' } });
      assert.equal(root.events.length, 2);
      const client = spans.find((s: any) => s.spanId === sp.clientA);
      assert.equal(client.parentSpanId, sp.rootA);
      assert.deepEqual(client.links[0], { traceId: ids.b, spanId: sp.linkedB, attributes: [{ key: 'link.reason', value: { stringValue: 'retry' } }] });
      const fe = rs.find((x) => x.resource.attributes.some((a: any) => a.key === 'service.name' && a.value.stringValue === 'frontend'));
      assert.deepEqual(fe.resource.attributes, [
        { key: 'service.name', value: { stringValue: 'frontend' } },
        { key: 'host.name', value: { stringValue: 'fe-host' } },
        { key: 'process.pid', value: { intValue: '4242' } },
      ]);
      assert.ok(rs.some((x) => x.scopeSpans.some((ss: any) => ss.scope.name === 'io.opentelemetry.http' && ss.scope.version === '1.2.3')));
    });

    test('GET /api/v3/traces/{traceId}: short ids, time hints, warnings, raw, 404, 400', async () => {
      const short = await get(api.url, '/api/v3/traces/1234567890abcdef');
      assert.equal(short.status, 200);
      const dSpans = short.body.result.resourceSpans.flatMap((x: any) => x.scopeSpans.flatMap((ss: any) => ss.spans));
      assert.equal(dSpans.length, 1, 'duplicates removed');
      const raw = await get(api.url, '/api/v3/traces/1234567890abcdef?rawTraces=true');
      assert.equal(raw.body.result.resourceSpans.flatMap((x: any) => x.scopeSpans.flatMap((ss: any) => ss.spans)).length, 2);
      const hinted = await get(api.url, `/api/v3/traces/${ids.a}?startTime=${new Date(Number(t0 / MS) - 1000).toISOString()}&end_time=${new Date(Number(t0 / MS) + 1000).toISOString()}`);
      assert.equal(hinted.status, 200);
      const c = await get(api.url, `/api/v3/traces/${ids.c}`);
      const orphan = c.body.result.resourceSpans.flatMap((x: any) => x.scopeSpans.flatMap((ss: any) => ss.spans)).find((s: any) => s.name === 'orphan');
      assert.deepEqual(orphan.attributes, [
        { key: '@jaeger@warnings', value: { arrayValue: { values: [{ stringValue: `parent span ID=${missingParent} is not in the trace; skipping clock skew adjustment` }] } } },
      ]);
      const missing = await get(api.url, `/api/v3/traces/${newTraceId()}`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: { httpCode: 404, message: 'No traces found' } });
      for (const [path, param] of [
        ['/api/v3/traces/xyz', 'trace_id'],
        [`/api/v3/traces/${ids.a}?startTime=abc`, 'startTime'],
        [`/api/v3/traces/${ids.a}?end_time=xyz`, 'end_time'],
        [`/api/v3/traces/${ids.a}?raw_traces=foobar`, 'raw_traces'],
      ]) {
        const r = await get(api.url, path!);
        assert.equal(r.status, 400, path);
        assert.equal(r.body.error.httpCode, 400);
        assert.ok(r.body.error.message.includes(param!), r.body.error.message);
      }
    });

    test('GET /api/v3/traces: search with camelCase and snake_case parameters', async () => {
      const found = async (qs: string) => {
        const r = await get(api.url, `/api/v3/traces?${qs}`);
        if (r.status === 404) return [];
        assert.equal(r.status, 200, r.text);
        const tids = new Set<string>();
        for (const x of r.body.result.resourceSpans) for (const ss of x.scopeSpans) for (const s of ss.spans) tids.add(s.traceId);
        return [...tids].sort();
      };
      const all = window(t0 - 3600n * SEC, t0 + 60n * SEC);
      assert.deepEqual(await found(`query.serviceName=frontend&${all}`), [ids.a, ids.b].sort());
      assert.deepEqual(await found(`query.service_name=frontend&${all.replace(/startTimeMin/, 'start_time_min').replace(/startTimeMax/, 'start_time_max')}`), [ids.a, ids.b].sort());
      assert.deepEqual(await found(`query.serviceName=frontend&query.operationName=HTTP%20GET%20%2Fhealth&${all}`), [ids.b]);
      assert.deepEqual(await found(`query.service_name=frontend&query.operation_name=HTTP%20GET%20%2Fhealth&${all}`), [ids.b]);
      assert.deepEqual(await found(`query.attributes=${encodeURIComponent('{"http.status_code":"200"}')}&${all}`), [ids.a]);
      assert.deepEqual(await found(`query.attributes.temperature=72.5&${all}`), [ids.c]);
      assert.deepEqual(await found(`query.durationMin=1s&${all}`), [ids.c]);
      assert.deepEqual(await found(`query.duration_min=50ms&query.duration_max=150ms&${all}`), [ids.a]);
      assert.deepEqual(await found(`query.durationMax=100us&${all}`), [], 'the only span that short is 3 h old');
      assert.deepEqual(await found(`query.serviceName=frontend&query.searchDepth=1&${all}`), [ids.a]);
      assert.deepEqual(await found(`query.serviceName=frontend&query.search_depth=1&${all}`), [ids.a]);
      assert.deepEqual(await found(`query.serviceName=frontend&query.num_traces=1&${all}`), [ids.a]);
      assert.deepEqual(await found(`query.serviceName=frontend&${window(t0 - 700n * SEC, t0 - 500n * SEC)}`), [ids.b]);
      assert.deepEqual((await found(`${all}`)).length, 4, 'without service: a, b, c, d');
      const none = await get(api.url, `/api/v3/traces?query.serviceName=nope&${all}`);
      assert.equal(none.status, 404);
      assert.deepEqual(none.body, { error: { httpCode: 404, message: 'No traces found' } });
    });

    test('GET /api/v3/traces: bad parameters are 400 naming the parameter', async () => {
      const good = new Date(Number(t0 / MS)).toISOString();
      const later = new Date(Number(t0 / MS) + 1000).toISOString();
      const cases: [string, string][] = [
        ['', 'query.startTimeMin and query.startTimeMax are required'],
        [`query.startTimeMin=${good}`, 'query.startTimeMin and query.startTimeMax are required'],
        [`query.startTimeMin=NaN&query.startTimeMax=${later}`, 'query.startTimeMin'],
        [`query.start_time_min=NaN&query.startTimeMax=${later}`, 'query.start_time_min'],
        [`query.startTimeMin=${good}&query.startTimeMax=NaN`, 'query.startTimeMax'],
        [`query.startTimeMin=${later}&query.startTimeMax=${good}`, 'query.startTimeMin must be before query.startTimeMax'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.searchDepth=NaN`, 'query.searchDepth'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.num_traces=-1`, 'query.num_traces'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.durationMin=NaN`, 'query.durationMin'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.duration_max=NaN`, 'query.duration_max'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.durationMin=2s&query.durationMax=1s`, 'query.durationMax'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.attributes=nojson`, 'query.attributes'],
        [`query.startTimeMin=${good}&query.startTimeMax=${later}&query.rawTraces=foobar`, 'query.rawTraces'],
      ];
      for (const [qs, msg] of cases) {
        const r = await get(api.url, `/api/v3/traces?${qs.replace(/\+/g, '%2B')}`);
        assert.equal(r.status, 400, qs);
        assert.equal(r.body.error.httpCode, 400);
        assert.ok(r.body.error.message.includes(msg), `${qs}: ${r.body.error.message}`);
      }
      const unknown = await get(api.url, '/api/v3/nothing');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.httpCode, 404);
    });
  });

  describe('limits and adjusters', () => {
    test('limit defaults to 20; v3 searchDepth defaults to 100', async () => {
      const bulk = new MemoryStore({ maxTraces: 1000 });
      await bulk.start();
      const t = baseTime();
      const list = Array.from({ length: 120 }, (_, i) => makeSpan({ traceId: newTraceId(), name: 'op', start: t + BigInt(i) * MS }));
      await bulk.writeTraces(traces(makeResourceSpans({ service: 'bulk' }, list)), ctx);
      const s = await serve(bulk);
      try {
        const v1 = await get(s.url, '/api/traces?service=bulk');
        assert.equal(v1.body.data.length, 20);
        assert.deepEqual(traceIds(v1.body), list.slice(-20).reverse().map((x) => x.traceId));
        assert.equal((await get(s.url, '/api/traces?service=bulk&limit=120')).body.data.length, 120);
        const from = new Date(Number(t / MS) - 1000).toISOString();
        const to = new Date(Number(t / MS) + 1000).toISOString();
        const v3 = await get(s.url, `/api/v3/traces?query.serviceName=bulk&query.startTimeMin=${from}&query.startTimeMax=${to}`);
        assert.equal(v3.body.result.resourceSpans.flatMap((x: any) => x.scopeSpans.flatMap((ss: any) => ss.spans)).length, 100);
      } finally {
        await s.close();
        await bulk.close();
      }
    });

    test('a big trace is streamed whole (v1 and v3)', async () => {
      const st = new MemoryStore({ maxTraces: 10 });
      await st.start();
      const traceId = newTraceId();
      const t = baseTime();
      const spans = Array.from({ length: 5000 }, (_, i) => makeSpan({ traceId, name: `op-${i % 40}`, start: t + BigInt(i) * 1000n, attributes: [str('payload', 'x'.repeat(64)), int('i', i)] }));
      await st.writeTraces(traces(makeResourceSpans({ service: 'big' }, spans.slice(0, 2500)), makeResourceSpans({ service: 'big2' }, spans.slice(2500))), ctx);
      const s = await serve(st);
      try {
        const v1 = await get(s.url, `/api/traces/${traceId}`);
        assert.equal(v1.status, 200);
        assert.ok(v1.text.length > 1_000_000, 'several stream chunks');
        assert.equal(v1.headers.get('content-length'), null, 'streamed');
        const tr = v1.body.data[0] as JaegerTrace;
        assert.equal(tr.spans.length, 5000);
        assert.deepEqual(new Set(tr.spans.map((x) => x.spanID)).size, 5000);
        assert.equal(Object.keys(tr.processes).length, 2);
        const v3 = await get(s.url, `/api/v3/traces/${traceId}`);
        assert.equal(v3.status, 200);
        assert.equal(v3.body.result.resourceSpans.flatMap((x: any) => x.scopeSpans.flatMap((ss: any) => ss.spans)).length, 5000);
        const pretty = await get(s.url, `/api/traces/${traceId}?prettyPrint=1`);
        assert.equal(pretty.body.data[0].spans.length, 5000);
      } finally {
        await s.close();
        await st.close();
      }
    });

    test('clock skew: reported by default, corrected within max_clock_skew_adjust; max_trace_size truncates', async () => {
      const st = new MemoryStore({ maxTraces: 10 });
      await st.start();
      const t = baseTime();
      const traceId = newTraceId();
      const parent = makeSpan({ traceId, name: 'call', kind: SpanKind.CLIENT, start: t, duration: 10n * MS });
      // The child's host clock is 1 s behind: it appears to start before its parent.
      const child = makeSpan({ traceId, parentSpanId: parent.spanId, name: 'serve', kind: SpanKind.SERVER, start: t - SEC + 2n * MS, duration: 6n * MS, events: [{ timeUnixNano: t - SEC + 3n * MS, name: 'e', attributes: [], droppedAttributesCount: 0 }] });
      const grandchild = makeSpan({ traceId, parentSpanId: child.spanId, name: 'inner', start: t - SEC + 3n * MS, duration: MS });
      await st.writeTraces(traces(makeResourceSpans({ service: 'a', resourceAttributes: [str('host.name', 'h1')] }, [parent])), ctx);
      await st.writeTraces(traces(makeResourceSpans({ service: 'b', resourceAttributes: [str('host.name', 'h2')] }, [child, grandchild])), ctx);
      const plain = await serve(st);
      const fixing = await serve(st, { adjust: { maxClockSkewAdjust: 2n * SEC, maxTraceSize: 0 } });
      const capped = await serve(st, { adjust: { maxClockSkewAdjust: 0n, maxTraceSize: 2 } });
      try {
        const p = (await get(plain.url, `/api/traces/${traceId}`)).body.data[0] as JaegerTrace;
        assert.deepEqual(span(p, child.spanId).warnings, ['clock skew adjustment disabled; not applying calculated delta of 1s']);
        assert.equal(span(p, child.spanId).startTime, us(t - SEC + 2n * MS));
        const f = (await get(fixing.url, `/api/traces/${traceId}`)).body.data[0] as JaegerTrace;
        const fc = span(f, child.spanId);
        // Latency split evenly: (10 ms - 6 ms) / 2 after the parent's start.
        assert.equal(fc.startTime, us(t + 2n * MS));
        assert.equal(fc.logs[0]!.timestamp, us(t + 3n * MS));
        assert.deepEqual(fc.warnings, ["This span's timestamps were adjusted by 1s"]);
        assert.equal(span(f, grandchild.spanId).startTime, us(t + 3n * MS), 'same host as its parent: shifted by the same delta');
        const raw = (await get(fixing.url, `/api/traces/${traceId}?raw=true`)).body.data[0] as JaegerTrace;
        assert.equal(span(raw, child.spanId).startTime, us(t - SEC + 2n * MS));
        const c = (await get(capped.url, `/api/traces/${traceId}`)).body.data[0] as JaegerTrace;
        assert.equal(c.spans.length, 2);
        assert.ok(c.spans[0]!.warnings!.some((w) => w.includes('max_trace_size 2')));
      } finally {
        await plain.close();
        await fixing.close();
        await capped.close();
        await st.close();
      }
    });
  });

  describe('archive', () => {
    test('POST /api/archive/{traceID} copies a trace to the archive backend; reads fall back to it', async () => {
      const primary = new MemoryStore({ maxTraces: 10 });
      const archive = new MemoryStore({ maxTraces: 10 });
      await primary.start();
      await archive.start();
      const traceId = newTraceId();
      const root = makeSpan({ traceId, name: 'keep me', start: baseTime() });
      await primary.writeTraces(traces(makeResourceSpans({ service: 'svc', resourceAttributes: [str('host.name', 'h')] }, [root, makeSpan({ traceId, parentSpanId: root.spanId, name: 'child', start: baseTime() + 1n })])), ctx);
      const s = await serve(primary, { archive: new QueryService(archive) });
      const noArchive = await serve(primary);
      try {
        const r = await fetch(`${s.url}/api/archive/${traceId}`, { method: 'POST' });
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), { data: [], total: 0, limit: 0, offset: 0, errors: [] });
        const copied = await new QueryService(archive).getTraces([{ traceId }], ctx);
        assert.equal(copied[0]?.rows.length, 2);
        assert.deepEqual(copied[0]!.rows[0]!.resource.attributes.find((a) => a.key === 'host.name'), str('host.name', 'h'));
        assert.deepEqual(copied[0]!.rows.map((r) => r.span.name).sort(), ['child', 'keep me']);
        // Reads fall back to the archive when the primary does not have the trace.
        const fromArchive = await serve(new MemoryStore({ maxTraces: 1 }), { archive: new QueryService(archive) });
        try {
          assert.equal((await get(fromArchive.url, `/api/traces/${traceId}`)).body.data[0].spans.length, 2);
          assert.equal((await get(fromArchive.url, `/api/v3/traces/${traceId}`)).status, 200);
          assert.deepEqual(traceIds((await get(fromArchive.url, `/api/traces?traceID=${traceId}`)).body), [traceId]);
        } finally {
          await fromArchive.close();
        }
        assert.equal((await fetch(`${s.url}/api/archive/${newTraceId()}`, { method: 'POST' })).status, 404);
        assert.equal((await fetch(`${s.url}/api/archive/nope`, { method: 'POST' })).status, 400);
        const getArchive = await fetch(`${s.url}/api/archive/${traceId}`);
        assert.equal(getArchive.status, 405);
        assert.equal(getArchive.headers.get('allow'), 'POST');
        const none = await fetch(`${noArchive.url}/api/archive/${traceId}`, { method: 'POST' });
        assert.equal(none.status, 501);
        assert.match(((await none.json()) as { errors: { msg: string }[] }).errors[0]!.msg, /traces_archive/);
      } finally {
        await s.close();
        await noArchive.close();
        await primary.close();
        await archive.close();
      }
    });
  });

  describe('tenancy', () => {
    test('the tenant header selects the data; missing or unknown tenants are 401', async () => {
      const st = new MemoryStore({ maxTraces: 10 });
      await st.start();
      const traceId = newTraceId();
      await st.writeTraces(traces(makeResourceSpans({ service: 'acme-svc' }, [makeSpan({ traceId, start: baseTime() })])), { tenant: 'acme' });
      const s = await serve(st, { tenancy: { enabled: true, header: 'X-Tenant', tenants: ['acme', 'other'] } });
      try {
        assert.deepEqual((await get(s.url, '/api/services', { 'x-tenant': 'acme' })).body.data, ['acme-svc']);
        assert.deepEqual((await get(s.url, '/api/services', { 'x-tenant': 'other' })).body.data, []);
        assert.equal((await get(s.url, `/api/traces/${traceId}`, { 'x-tenant': 'other' })).status, 404);
        assert.equal((await get(s.url, `/api/v3/traces/${traceId}`, { 'x-tenant': 'acme' })).status, 200);
        const none = await get(s.url, '/api/services');
        assert.equal(none.status, 401);
        assert.match(none.body.errors[0].msg, /X-Tenant/);
        const unknown = await get(s.url, '/api/v3/services', { 'x-tenant': 'evil' });
        assert.equal(unknown.status, 401);
        assert.equal(unknown.body.error.httpCode, 401);
      } finally {
        await s.close();
        await st.close();
      }
    });
  });

  describe('base_path and the UI', () => {
    let uiDir: string;
    before(async () => {
      uiDir = await mkdtemp(join(tmpdir(), 'skua-ui-'));
      await mkdir(join(uiDir, 'assets'));
      await writeFile(join(uiDir, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><title>Skua</title></head><body><div id="root"></div><script type="module" src="./assets/index-AbC123xY.js"></script></body></html>');
      await writeFile(join(uiDir, 'assets', 'index-AbC123xY.js'), 'console.log("skua")');
      await writeFile(join(uiDir, 'assets', 'index-Zz9_8-7q.css'), 'body{}');
      await writeFile(join(uiDir, 'favicon.svg'), '<svg/>');
    });
    after(async () => {
      await rm(uiDir, { recursive: true, force: true });
    });

    test('the API and the UI under base_path; SPA fallback; content types and caching', async () => {
      const s = await serve(store, { basePath: '/jaeger/', uiDir, uiConfig: { menu: [] } });
      try {
        assert.deepEqual((await get(s.url, '/jaeger/api/services')).body.data.includes('frontend'), true);
        assert.equal((await get(s.url, `/jaeger/api/traces/${ids.a}`)).status, 200);
        assert.equal((await get(s.url, '/jaeger/api/v3/services')).status, 200);
        assert.equal((await get(s.url, '/api/services')).status, 404, 'outside the base path');
        assert.equal((await get(s.url, '/jaegerx/api/services')).status, 404);

        const root = await get(s.url, '/');
        assert.equal(root.status, 302);
        assert.equal(root.headers.get('location'), '/jaeger/');
        const bare = await get(s.url, '/jaeger?x=1');
        assert.equal(bare.status, 301);
        assert.equal(bare.headers.get('location'), '/jaeger/?x=1');

        const index = await get(s.url, '/jaeger/');
        assert.equal(index.status, 200);
        assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
        assert.equal(index.headers.get('cache-control'), 'no-cache');
        assert.match(index.text, /<head><script>window.__SKUA_BASE_PATH__="\/jaeger\/";window.__SKUA_UI_CONFIG__=\{"menu":\[\]\};<\/script><meta/);
        const etag = index.headers.get('etag')!;
        assert.equal((await fetch(`${s.url}/jaeger/`, { headers: { 'if-none-match': etag } })).status, 304);

        for (const route of ['/jaeger/search?service=frontend', `/jaeger/trace/${ids.a}`, '/jaeger/dependencies', '/jaeger/index.html']) {
          const r = await get(s.url, route);
          assert.equal(r.status, 200, route);
          assert.match(r.text, /__SKUA_BASE_PATH__/, route);
        }

        const js = await get(s.url, '/jaeger/assets/index-AbC123xY.js');
        assert.equal(js.status, 200);
        assert.equal(js.text, 'console.log("skua")');
        assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
        assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        const jsEtag = js.headers.get('etag')!;
        assert.equal((await fetch(`${s.url}/jaeger/assets/index-AbC123xY.js`, { headers: { 'if-none-match': jsEtag } })).status, 304);
        const css = await get(s.url, '/jaeger/assets/index-Zz9_8-7q.css');
        assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
        const svg = await get(s.url, '/jaeger/favicon.svg');
        assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
        assert.equal(svg.headers.get('cache-control'), 'public, max-age=300', 'unhashed files are short-lived');
        const head = await fetch(`${s.url}/jaeger/assets/index-AbC123xY.js`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), String('console.log("skua")'.length));

        assert.equal((await get(s.url, '/jaeger/assets/missing-12345678.js')).status, 404, 'missing assets are not index.html');
        assert.equal((await get(s.url, '/jaeger/%2e%2e/%2e%2e/etc/passwd')).status, 404, 'no traversal');
        assert.equal((await get(s.url, '/jaeger/assets/%2e%2e%2f%2e%2e%2fpackage.json')).status, 404, 'no traversal');
        assert.equal((await fetch(`${s.url}/jaeger/search`, { method: 'POST' })).status, 405);
      } finally {
        await s.close();
      }
    });

    test('the root base path; a missing UI build answers a page pointing at the API', async () => {
      const s = await serve(store, { basePath: '/', uiDir });
      const missing = await serve(store, { basePath: '/', uiDir: join(uiDir, 'nope') });
      try {
        const index = await get(s.url, '/');
        assert.match(index.text, /window.__SKUA_BASE_PATH__="\/"/);
        assert.equal((await get(s.url, '/trace/abc')).status, 200);
        const page = await get(missing.url, '/');
        assert.equal(page.status, 200);
        assert.match(page.text, /UI was not built/);
        assert.match(page.text, /href="\/api\/services"/);
        assert.equal((await get(missing.url, '/search')).status, 200);
        assert.equal((await get(missing.url, '/assets/x.js')).status, 404);
        assert.equal((await get(missing.url, '/api/services')).status, 200, 'the API works without the UI');
      } finally {
        await s.close();
        await missing.close();
      }
    });
  });
});
