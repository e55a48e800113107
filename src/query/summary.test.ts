/**
 * Trace summaries: the pure one-pass computation (summary.ts), then `GET /api/skua/trace-summaries`
 * end to end over a real socket and the real memory backend — same parameters, order, envelope
 * and 400s as /api/traces, and figures that agree with the whole traces /api/traces returns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { SpanKind, StatusCode, type ResourceSpans, type SpanId, type TraceId } from '../pdata/model.js';
import { Traces } from '../pdata/traces.js';
import { MemoryStore } from '../storage/memory/memory.js';
import { baseTime, int, makeResourceSpans, makeSpan, newSpanId, newTraceId, str, traces } from '../storage/conformance.js';
import { nopLogger } from '../telemetry/logger.js';
import { freePort } from '../testutil/ports.js';
import { createQueryHandler, type QueryHandlerOptions } from './handler.js';
import type { JaegerTrace } from './jaeger-json.js';
import { QueryService } from './service.js';
import { summarizeTraces, TraceSummaryBuilder, type TraceSummary } from './summary.js';

const US = 1000n;
const MS = 1000n * US;
const SEC = 1000n * MS;
const ctx = { tenant: '' };
const us = (ns: bigint) => Number(ns / 1000n);
const ERR = { code: StatusCode.ERROR, message: 'boom' } as const;

// ---------------------------------------------------------------------------------------------
// The computation
// ---------------------------------------------------------------------------------------------

describe('summarizeTraces (one pass over resourceSpans)', () => {
  const t0 = baseTime();

  test('root, time range, span and error counts per service, services sorted by span count', () => {
    const traceId = newTraceId();
    const root = makeSpan({ traceId, name: 'GET /dispatch', kind: SpanKind.SERVER, start: t0, duration: 100n * MS });
    const call = makeSpan({ traceId, parentSpanId: root.spanId, name: 'HTTP GET customer', kind: SpanKind.CLIENT, start: t0 + 5n * MS, duration: 50n * MS });
    const srv = makeSpan({ traceId, parentSpanId: call.spanId, name: 'GET /customer', start: t0 + 6n * MS, duration: 48n * MS, status: ERR });
    const sql = makeSpan({ traceId, parentSpanId: srv.spanId, name: 'SELECT', start: t0 + 7n * MS, duration: 150n * MS, status: ERR });
    const sql2 = makeSpan({ traceId, parentSpanId: srv.spanId, name: 'SELECT', start: t0 + 8n * MS, duration: MS });
    // The customer service's spans arrive first (storage order is not time order).
    const [s] = summarizeTraces([
      traces(makeResourceSpans({ service: 'customer' }, [srv]), makeResourceSpans({ service: 'mysql' }, [sql, sql2])),
      traces(makeResourceSpans({ service: 'frontend' }, [call, root])),
    ]);
    const want: TraceSummary = {
      traceID: traceId,
      rootServiceName: 'frontend',
      rootOperationName: 'GET /dispatch',
      rootSpanID: root.spanId,
      startTime: us(t0),
      duration: us(157n * MS), // the SQL span outlives the root
      spanCount: 5,
      errorCount: 2,
      services: [
        { name: 'frontend', spanCount: 2, errorCount: 0 },
        { name: 'mysql', spanCount: 2, errorCount: 1 },
        { name: 'customer', spanCount: 1, errorCount: 1 },
      ],
      incomplete: false,
    };
    assert.deepEqual(s, want);
  });

  test('no span without a parent: the earliest span is the root, and the trace is incomplete', () => {
    const traceId = newTraceId();
    const lost = newSpanId();
    const a = makeSpan({ traceId, parentSpanId: lost, name: 'later', start: t0 + 2n * MS });
    const b = makeSpan({ traceId, parentSpanId: lost, name: 'earliest', start: t0 + MS });
    const c = makeSpan({ traceId, parentSpanId: a.spanId, name: 'child', start: t0 + 3n * MS });
    const [s] = summarizeTraces([traces(makeResourceSpans({ service: 'route' }, [a, b, c]))]);
    assert.equal(s!.rootOperationName, 'earliest');
    assert.equal(s!.rootSpanID, b.spanId);
    assert.equal(s!.incomplete, true);
    assert.equal(s!.startTime, us(t0 + MS));
  });

  test('a root and a span whose parent never arrived: the root is kept, the trace is incomplete', () => {
    const traceId = newTraceId();
    const orphan = makeSpan({ traceId, parentSpanId: newSpanId(), name: 'orphan', start: t0 - MS });
    const root = makeSpan({ traceId, name: 'root', start: t0, duration: 10n * MS });
    const [s] = summarizeTraces([traces(makeResourceSpans({ service: 'x' }, [orphan, root]))]);
    assert.equal(s!.rootOperationName, 'root', 'the earliest span WITHOUT a parent, not the earliest span');
    assert.equal(s!.incomplete, true);
    assert.equal(s!.startTime, us(t0 - MS));
    assert.equal(s!.duration, us(11n * MS));
  });

  test('an all-zero parent id means no parent; the earliest of several roots; ties broken deterministically', () => {
    const traceId = newTraceId();
    const zero = makeSpan({ traceId, parentSpanId: '0000000000000000' as SpanId, name: 'zero-parent root', start: t0 + MS });
    const late = makeSpan({ traceId, name: 'late root', start: t0 + 5n * MS });
    const [s] = summarizeTraces([traces(makeResourceSpans({ service: 'x' }, [late, zero]))]);
    assert.equal(s!.rootOperationName, 'zero-parent root');
    assert.equal(s!.incomplete, false);
    // Equal starts: the longer (enclosing) span wins, whatever the order of arrival.
    const inner = makeSpan({ traceId, name: 'inner', start: t0, duration: MS });
    const outer = makeSpan({ traceId, name: 'outer', start: t0, duration: 9n * MS });
    for (const order of [[inner, outer], [outer, inner]]) {
      assert.equal(summarizeTraces([traces(makeResourceSpans({ service: 'x' }, order))])[0]!.rootOperationName, 'outer');
    }
  });

  test('identical copies of a span count once (as the adjuster removes them); raw counts every copy', () => {
    const traceId = newTraceId();
    const root = makeSpan({ traceId, name: 'root', start: t0, status: ERR });
    const child = makeSpan({ traceId, parentSpanId: root.spanId, name: 'child', start: t0 + 1n });
    const sameIdOtherContent = { ...child, name: 'child (client side)' };
    const batch = () => traces(makeResourceSpans({ service: 'svc' }, [root, child]));
    const list = [batch(), batch(), traces(makeResourceSpans({ service: 'svc' }, [sameIdOtherContent]))];
    const [d] = summarizeTraces(list);
    assert.equal(d!.spanCount, 3, 'root + child + a different span sharing the child id');
    assert.equal(d!.errorCount, 1);
    assert.deepEqual(d!.services, [{ name: 'svc', spanCount: 3, errorCount: 1 }]);
    const [raw] = summarizeTraces(list, { dedupe: false });
    assert.equal(raw!.spanCount, 5);
    assert.equal(raw!.errorCount, 2);
    // The same span under another resource is not a copy.
    const [other] = summarizeTraces([batch(), traces(makeResourceSpans({ service: 'svc2' }, [root]))]);
    assert.equal(other!.spanCount, 3);
  });

  test('several traces in one Traces value, first-seen order; a resource without service.name', () => {
    const a = newTraceId();
    const b = newTraceId();
    const rs: ResourceSpans = {
      resource: { attributes: [str('host.name', 'h')], droppedAttributesCount: 0 },
      scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, spans: [makeSpan({ traceId: b, start: t0 }), makeSpan({ traceId: a, start: t0 }), makeSpan({ traceId: b, start: t0 + MS })], schemaUrl: '' }],
      schemaUrl: '',
    };
    const out = summarizeTraces([Traces.fromResourceSpans([rs])]);
    assert.deepEqual(out.map((s) => [s.traceID, s.spanCount]), [[b, 2], [a, 1]]);
    assert.equal(out[0]!.rootServiceName, 'OTLPResourceNoServiceName', "Jaeger's name for a resource without service.name");
    assert.deepEqual(summarizeTraces([Traces.empty]), []);
    assert.equal(new TraceSummaryBuilder(a).finish(), undefined);
  });

  test('a span ending before it starts adds no negative duration', () => {
    const traceId = newTraceId();
    const s = makeSpan({ traceId, start: t0 });
    const [out] = summarizeTraces([traces(makeResourceSpans({ service: 'x' }, [{ ...s, endTimeUnixNano: t0 - SEC }]))]);
    assert.equal(out!.duration, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// The endpoint
// ---------------------------------------------------------------------------------------------

interface Running {
  url: string;
  close(): Promise<void>;
}

async function serve(store: MemoryStore, opts: Partial<Omit<QueryHandlerOptions, 'service'>> = {}): Promise<Running> {
  const server: Server = createServer(createQueryHandler({ service: new QueryService(store), basePath: '/', logger: nopLogger(), ...opts }));
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

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; bytes: number }> {
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

const SUMMARIES = '/api/skua/trace-summaries';
const idsOf = (body: any): string[] => (body.data as Array<{ traceID: string }>).map((t) => t.traceID);

/** The figures of a summary, derived from the whole Jaeger JSON trace that /api/traces returns. */
function expectedFrom(t: JaegerTrace): Omit<TraceSummary, 'rootSpanID'> {
  const ids = new Set(t.spans.map((s) => s.spanID));
  const parentOf = (s: JaegerTrace['spans'][number]) => s.references.find((r) => r.refType === 'CHILD_OF' && r.traceID === t.traceID)?.spanID;
  const services = new Map<string, { name: string; spanCount: number; errorCount: number }>();
  let errors = 0;
  for (const s of t.spans) {
    const name = t.processes[s.processID]!.serviceName;
    const e = services.get(name) ?? { name, spanCount: 0, errorCount: 0 };
    services.set(name, e);
    e.spanCount++;
    if (s.tags.some((k) => k.key === 'otel.status_code' && k.value === 'ERROR')) {
      e.errorCount++;
      errors++;
    }
  }
  const start = Math.min(...t.spans.map((s) => s.startTime));
  const end = Math.max(...t.spans.map((s) => s.startTime + s.duration));
  const byStart = [...t.spans].sort((a, b) => a.startTime - b.startTime || b.duration - a.duration);
  const root = byStart.find((s) => parentOf(s) === undefined) ?? byStart[0]!;
  return {
    traceID: t.traceID,
    rootServiceName: t.processes[root.processID]!.serviceName,
    rootOperationName: root.operationName,
    startTime: start,
    duration: end - start,
    spanCount: t.spans.length,
    errorCount: errors,
    services: [...services.values()].sort((a, b) => b.spanCount - a.spanCount || (a.name < b.name ? -1 : 1)),
    incomplete: t.spans.some((s) => {
      const p = parentOf(s);
      return p !== undefined && !ids.has(p);
    }),
  };
}

describe('GET /api/skua/trace-summaries', () => {
  const store = new MemoryStore({ maxTraces: 1000 });
  let api: Running;
  const t0 = baseTime();
  const ids = { a: newTraceId(), orphan: newTraceId(), anon: newTraceId(), dup: newTraceId(), old: newTraceId() };

  before(async () => {
    await store.start();
    // a: frontend → customer (error) → mysql, written in two batches by two services.
    const root = makeSpan({ traceId: ids.a, name: 'GET /dispatch', kind: SpanKind.SERVER, start: t0, duration: 300n * MS, attributes: [int('http.status_code', 500)] });
    const call = makeSpan({ traceId: ids.a, parentSpanId: root.spanId, name: 'HTTP GET customer', kind: SpanKind.CLIENT, start: t0 + 10n * MS, duration: 100n * MS });
    await store.writeTraces(traces(makeResourceSpans({ service: 'frontend' }, [root, call])), ctx);
    const srv = makeSpan({ traceId: ids.a, parentSpanId: call.spanId, name: 'GET /customer', kind: SpanKind.SERVER, start: t0 + 11n * MS, duration: 98n * MS, status: ERR });
    await store.writeTraces(
      traces(
        makeResourceSpans({ service: 'customer' }, [srv]),
        makeResourceSpans({ service: 'mysql' }, [
          makeSpan({ traceId: ids.a, parentSpanId: srv.spanId, name: 'SELECT', kind: SpanKind.CLIENT, start: t0 + 12n * MS, duration: 50n * MS }),
          makeSpan({ traceId: ids.a, parentSpanId: srv.spanId, name: 'SELECT', kind: SpanKind.CLIENT, start: t0 + 63n * MS, duration: 40n * MS, status: ERR }),
        ]),
      ),
      ctx,
    );
    // orphan: the root never arrived.
    const lost = newSpanId();
    await store.writeTraces(
      traces(
        makeResourceSpans({ service: 'frontend' }, [
          makeSpan({ traceId: ids.orphan, parentSpanId: lost, name: 'HTTP GET route', start: t0 - 60n * SEC + 2n * MS, duration: 20n * MS }),
          makeSpan({ traceId: ids.orphan, parentSpanId: lost, name: 'HTTP GET driver', start: t0 - 60n * SEC + MS, duration: 5n * MS }),
        ]),
      ),
      ctx,
    );
    // anon: a resource without service.name.
    await store.writeTraces(
      traces({
        resource: { attributes: [str('host.name', 'h')], droppedAttributesCount: 0 },
        scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, spans: [makeSpan({ traceId: ids.anon, name: 'anonymous', start: t0 - 120n * SEC })], schemaUrl: '' }],
        schemaUrl: '',
      }),
      ctx,
    );
    // dup: a retried batch.
    const dup = makeSpan({ traceId: ids.dup, name: 'legacy op', kind: SpanKind.SERVER, start: t0 - 180n * SEC, duration: 3n * MS });
    await store.writeTraces(traces(makeResourceSpans({ service: 'legacy' }, [dup])), ctx);
    await store.writeTraces(traces(makeResourceSpans({ service: 'legacy' }, [dup])), ctx);
    // old: 3 hours ago.
    const oldStart = (BigInt(Date.now()) - 3n * 3600n * 1000n) * MS;
    await store.writeTraces(traces(makeResourceSpans({ service: 'frontend' }, [makeSpan({ traceId: ids.old, name: 'HTTP GET /old', kind: SpanKind.SERVER, start: oldStart })])), ctx);
    api = await serve(store);
  });
  after(async () => {
    await api.close();
    await store.close();
  });

  test('search: the traces /api/traces returns, in its order, in the same envelope', async () => {
    for (const qs of ['service=frontend', 'limit=3', 'service=frontend&lookback=2h', 'service=customer&tag=http.status_code:500', 'operation=SELECT&minDuration=45ms', 'service=nope', '']) {
      const full = await get(api.url, `/api/traces?${qs}`);
      const sum = await get(api.url, `${SUMMARIES}?${qs}`);
      assert.equal(sum.status, 200, qs);
      assert.deepEqual(idsOf(sum.body), idsOf(full.body), qs);
      assert.deepEqual(Object.keys(sum.body).sort(), ['data', 'errors', 'limit', 'offset', 'total'], qs);
      assert.equal(sum.body.total, full.body.total, qs);
      assert.equal(sum.body.limit, full.body.limit, qs);
      assert.equal(sum.body.offset, 0);
      assert.equal(sum.body.errors, null);
    }
    assert.deepEqual(idsOf((await get(api.url, `${SUMMARIES}?service=frontend`)).body), [ids.a, ids.orphan, ids.old]);
  });

  test('each summary agrees with the whole trace /api/traces returns', async () => {
    const full = (await get(api.url, '/api/traces?limit=100')).body.data as JaegerTrace[];
    const sums = (await get(api.url, `${SUMMARIES}?limit=100`)).body.data as TraceSummary[];
    assert.equal(sums.length, 5);
    for (const [i, t] of full.entries()) {
      const { rootSpanID, ...rest } = sums[i]!;
      assert.deepEqual(rest, expectedFrom(t), t.traceID);
      assert.ok(t.spans.some((s) => s.spanID === rootSpanID));
    }
  });

  test('the figures of a trace', async () => {
    const [a, orphan] = (await get(api.url, `${SUMMARIES}?traceID=${ids.a}&traceID=${ids.orphan}`)).body.data as TraceSummary[];
    assert.deepEqual({ ...a!, rootSpanID: '' }, {
      traceID: ids.a,
      rootServiceName: 'frontend',
      rootOperationName: 'GET /dispatch',
      rootSpanID: '',
      startTime: us(t0),
      duration: us(300n * MS),
      spanCount: 5,
      errorCount: 2,
      services: [
        { name: 'frontend', spanCount: 2, errorCount: 0 },
        { name: 'mysql', spanCount: 2, errorCount: 1 },
        { name: 'customer', spanCount: 1, errorCount: 1 },
      ],
      incomplete: false,
    });
    assert.equal(orphan!.incomplete, true);
    assert.equal(orphan!.rootOperationName, 'HTTP GET driver', 'no root span: the earliest span');
    assert.equal(orphan!.duration, us(21n * MS));
  });

  test('a retried batch counts once; raw=true counts every stored copy', async () => {
    assert.equal((await get(api.url, `${SUMMARIES}?traceID=${ids.dup}`)).body.data[0].spanCount, 1);
    assert.equal((await get(api.url, `${SUMMARIES}?traceID=${ids.dup}&raw=true`)).body.data[0].spanCount, 2);
    assert.equal((await get(api.url, `${SUMMARIES}?service=legacy&raw=1`)).body.data[0].spanCount, 2);
  });

  test('by traceID (repeated, short, upper case): in the order asked, missing ids as errors', async () => {
    const missing = newTraceId();
    const r = await get(api.url, `${SUMMARIES}?traceID=${ids.orphan}&traceID=${missing}&traceID=${ids.a.toUpperCase()}&traceID=${ids.orphan}`);
    assert.equal(r.status, 200);
    assert.deepEqual(idsOf(r.body), [ids.orphan, ids.a]);
    assert.deepEqual(r.body.errors, [{ msg: 'trace not found', traceID: missing }]);
    assert.equal(r.body.total, 2);
    const none = await get(api.url, `${SUMMARIES}?traceID=${missing}`);
    assert.deepEqual(none.body.data, []);
    assert.equal(none.body.errors.length, 1);
  });

  test('bad parameters: 400 naming the parameter, in API v1 error shape', async () => {
    const cases: [string, string][] = [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['limit=100001', 'limit'],
      ['start=yesterday', 'start'],
      ['end=-5', 'end'],
      [`start=${us(t0)}&end=${us(t0 - SEC)}`, 'start'],
      ['minDuration=fast', 'minDuration'],
      ['maxDuration=10', 'maxDuration'],
      ['minDuration=2s&maxDuration=1s', 'maxDuration'],
      ['tags=not-json', 'tags'],
      ['tag=novalue', 'tag'],
      ['lookback=soon', 'lookback'],
      ['spanKind=up', 'spanKind'],
      ['raw=maybe', 'raw'],
      ['traceID=zz', 'traceID'],
    ];
    for (const [qs, param] of cases) {
      const r = await get(api.url, `${SUMMARIES}?service=frontend&${qs}`);
      assert.equal(r.status, 400, qs);
      assert.equal(r.body.data, null, qs);
      assert.equal(r.body.errors[0].code, 400, qs);
      assert.ok(r.body.errors[0].msg.includes(param), `${qs}: ${r.body.errors[0].msg}`);
    }
    const post = await fetch(`${api.url}${SUMMARIES}`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('a 20,000-span trace: a few hundred bytes instead of megabytes', async () => {
    const st = new MemoryStore({ maxTraces: 10 });
    await st.start();
    const traceId = newTraceId();
    const root = makeSpan({ traceId, name: 'batch', kind: SpanKind.SERVER, start: t0, duration: 10n * SEC });
    const svcs = ['gateway', 'orders', 'payments', 'postgres'];
    const spans = Array.from({ length: 19_999 }, (_, i) =>
      makeSpan({ traceId, parentSpanId: root.spanId, name: `op-${i % 40}`, start: t0 + BigInt(i + 1) * 100n * US, attributes: [str('payload', 'x'.repeat(32)), int('i', i)], ...(i % 500 === 0 ? { status: ERR } : {}) }),
    );
    const small = newTraceId();
    await st.writeTraces(traces(...svcs.map((s, k) => makeResourceSpans({ service: s }, k === 0 ? [root, ...spans.filter((_, i) => i % 4 === 0)] : spans.filter((_, i) => i % 4 === k)))), ctx);
    await st.writeTraces(traces(makeResourceSpans({ service: 'gateway' }, [makeSpan({ traceId: small, name: 'ping', start: t0 + SEC })])), ctx);
    const s = await serve(st);
    try {
      const full = await get(s.url, '/api/traces?service=gateway');
      const sum = await get(s.url, `${SUMMARIES}?service=gateway`);
      assert.deepEqual(idsOf(sum.body), [traceId, small], 'newest first: the big trace has the latest span start');
      const big = (sum.body.data as TraceSummary[])[0]!;
      assert.equal(big.spanCount, 20_000);
      assert.equal(big.errorCount, 40);
      assert.deepEqual(big.services.map((x) => [x.name, x.spanCount]), [['gateway', 5001], ['orders', 5000], ['payments', 5000], ['postgres', 4999]]);
      assert.equal(big.rootOperationName, 'batch');
      assert.ok(full.bytes > 5_000_000, `/api/traces: ${full.bytes} bytes`);
      assert.ok(sum.bytes < 1000, `summaries: ${sum.bytes} bytes`);
    } finally {
      await s.close();
      await st.close();
    }
  });

  test('archive fallback for trace ids; tenancy', async () => {
    const archive = new MemoryStore({ maxTraces: 10 });
    await archive.start();
    const archived = newTraceId();
    await archive.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: archived, name: 'kept', start: t0 })])), ctx);
    const withArchive = await serve(store, { archive: new QueryService(archive) });
    const tenancy = await serve(archive, { tenancy: { enabled: true, header: 'X-Tenant', tenants: [] } });
    try {
      const r = await get(withArchive.url, `${SUMMARIES}?traceID=${archived}&traceID=${ids.a}`);
      assert.deepEqual(idsOf(r.body), [archived, ids.a]);
      assert.equal(r.body.errors, null);
      assert.equal((await get(tenancy.url, `${SUMMARIES}?service=svc`)).status, 401);
      assert.deepEqual(idsOf((await get(tenancy.url, `${SUMMARIES}?service=svc`, { 'x-tenant': 'other' })).body), []);
    } finally {
      await withArchive.close();
      await tenancy.close();
      await archive.close();
    }
  });
});
