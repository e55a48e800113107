/**
 * Queries of the clickhouse backend beyond the shared conformance suite (which clickhouse.test.ts
 * runs): dependencies from parent/child spans (joins stay within a trace and a tenant, window
 * bounds, fan-out, counts at scale), operations by span kind (all six kinds, many batches and
 * days), searches without a service over a long time range (the backend scans growing time
 * windows: results must stay exact), attribute search over resource/event/link attributes in
 * combinations the suite does not build, and a differential check of a generated data set against
 * the memory store (the reference implementation of the same contract).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, StatusCode, type KeyValue, type ResourceSpans, type Span, type SpanEvent, type SpanLink, type TraceId, type UnixNanos } from '../../pdata/model.js';
import { rng } from '../../pdata/testdata/generate.js';
import { Traces } from '../../pdata/traces.js';
import type { DependencyLink, StorageContext, TraceQuery, TraceStore } from '../api.js';
import { spanKindNames } from '../api.js';
import { baseTime, bool, collect, dbl, flatten, int, makeResourceSpans, makeSpan, newSpanId, newTraceId, str, traces } from '../conformance.js';
import { MemoryStore } from '../memory/memory.js';
import { ClickHouseStore } from './clickhouse.js';
import { MIGRATIONS, MINUTE_KEY, SECOND_KEY } from './schema.js';
import { newTestStore, testConfig, withStore } from './testutil.js';

const ctx: StorageContext = { tenant: '' };
const MS = 1_000_000n;
const SECOND = 1000n * MS;
const HOUR = 3600n * SECOND;

/** A fresh embedded store for one test. */
function withFreshStore(fn: (s: ClickHouseStore) => Promise<void>): Promise<void> {
  return withStore(newTestStore(), fn);
}

async function ids(store: TraceStore, q: TraceQuery, c: StorageContext = ctx): Promise<TraceId[]> {
  return (await collect(store.findTraceIds(q, c))).map((f) => f.traceId);
}

/** A trace's span names, sorted and joined. */
function spanNames(td: { resourceSpans(): Iterable<ResourceSpans> }): string {
  return [...td.resourceSpans()].flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((x) => x.name))).sort().join(',');
}

function links(l: readonly DependencyLink[]): string[] {
  return l.map((x) => `${x.parent}->${x.child}:${x.callCount}`).sort();
}

function link(attributes: KeyValue[]): SpanLink {
  return { traceId: newTraceId(), spanId: newSpanId(), traceState: '', attributes, droppedAttributesCount: 0, flags: 0 };
}
function event(t: UnixNanos, attributes: KeyValue[]): SpanEvent {
  return { timeUnixNano: t, name: 'ev', attributes, droppedAttributesCount: 0 };
}

// ------------------------------------------------------------------------------------------------

describe('clickhouse dependencies', () => {
  test('a parent is looked up within the child\'s trace: the same span id in another trace makes no link', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const shared = newSpanId();
      const [a, b] = [newTraceId(), newTraceId()];
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'frontend' }, [makeSpan({ traceId: a, spanId: shared, start: t0 })]),
          // Trace b: its child names span `shared` as parent, but b has no such span.
          makeResourceSpans({ service: 'backend' }, [makeSpan({ traceId: b, parentSpanId: shared, start: t0 + MS })]),
        ),
        ctx,
      );
      assert.deepEqual(links(await s.getDependencies({ start: t0 - SECOND, end: t0 + SECOND }, ctx)), []);
    });
  });

  test('fan-out, cycles and same-service calls: one link per service pair with exact counts', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const spans: Record<string, Span[]> = {};
      const add = (svc: string, sp: Span) => (spans[svc] ??= []).push(sp);
      for (let i = 0; i < 5; i++) {
        const traceId = newTraceId();
        const start = t0 + BigInt(i) * SECOND;
        const gw = makeSpan({ traceId, kind: SpanKind.SERVER, start });
        add('gateway', gw);
        add('gateway', makeSpan({ traceId, parentSpanId: gw.spanId, name: 'internal', start: start + 1n })); // same service: no link
        // gateway -> users ×1, -> orders ×2, -> billing ×3 per trace
        for (const [svc, n] of [['users', 1], ['orders', 2], ['billing', 3]] as const) {
          for (let k = 0; k < n; k++) add(svc, makeSpan({ traceId, parentSpanId: gw.spanId, kind: SpanKind.SERVER, start: start + 10n + BigInt(k) }));
        }
        // a cycle: orders -> gateway (a callback) once per trace
        const ord = spans['orders']![spans['orders']!.length - 1]!;
        add('gateway', makeSpan({ traceId, parentSpanId: ord.spanId, name: 'callback', kind: SpanKind.SERVER, start: start + 20n }));
      }
      // Each service exports separately.
      for (const [svc, list] of Object.entries(spans)) await s.writeTraces(traces(makeResourceSpans({ service: svc }, list)), ctx);
      assert.deepEqual(links(await s.getDependencies({ start: t0 - SECOND, end: t0 + 10n * SECOND }, ctx)), [
        'gateway->billing:15',
        'gateway->orders:10',
        'gateway->users:5',
        'orders->gateway:5',
      ]);
    });
  });

  test('the window is inclusive at both ends and counts the spans that started in it', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const pair = (start: UnixNanos) => {
        const traceId = newTraceId();
        const p = makeSpan({ traceId, start });
        return [
          makeResourceSpans({ service: 'p' }, [p]),
          makeResourceSpans({ service: 'c' }, [makeSpan({ traceId, parentSpanId: p.spanId, start })]),
        ];
      };
      const start = t0;
      const end = t0 + 10n * SECOND;
      await s.writeTraces(traces(...pair(start), ...pair(end), ...pair(start - 1n), ...pair(end + 1n), ...pair(t0 + SECOND)), ctx);
      assert.deepEqual(links(await s.getDependencies({ start, end }, ctx)), ['p->c:3'], 'spans at start and at end count; 1 ns outside does not');
      assert.deepEqual(links(await s.getDependencies({ start: end, end }, ctx)), ['p->c:1'], 'a zero-width window at one instant');
    });
  });

  // api.ts: call counts "over spans that started in [start, end]: one link per (parent service,
  // child service) pair where a span of the child service has a parent span of a different
  // service" — the child started in the window; its parent may have started before (a long
  // request, a batch job). The memory store counts it so.
  test('a child that started in the window counts even when its parent started before it', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const traceId = newTraceId();
      const job = makeSpan({ traceId, name: 'nightly-job', start: t0 - 10n * 60n * SECOND, duration: 20n * 60n * SECOND });
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'scheduler' }, [job]),
          makeResourceSpans({ service: 'worker' }, [makeSpan({ traceId, parentSpanId: job.spanId, start: t0 + SECOND })]),
        ),
        ctx,
      );
      assert.deepEqual(links(await s.getDependencies({ start: t0, end: t0 + 60n * SECOND }, ctx)), ['scheduler->worker:1']);
    });
  });

  test('a parent in one tenant and a child in another make no link', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const traceId = newTraceId();
      const p = makeSpan({ traceId, start: t0 });
      await s.writeTraces(traces(makeResourceSpans({ service: 'p' }, [p])), { tenant: 'a' });
      await s.writeTraces(traces(makeResourceSpans({ service: 'c' }, [makeSpan({ traceId, parentSpanId: p.spanId, start: t0 + 1n })])), { tenant: 'b' });
      for (const tenant of ['a', 'b', '']) assert.deepEqual(await s.getDependencies({ start: t0 - SECOND, end: t0 + SECOND }, { tenant }), [], tenant);
    });
  });

  test('counts at scale: 2,000 calls in one batch', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const fe: Span[] = [];
      const be: Span[] = [];
      for (let i = 0; i < 2000; i++) {
        const traceId = newTraceId();
        const p = makeSpan({ traceId, start: t0 + BigInt(i) * MS });
        fe.push(p);
        be.push(makeSpan({ traceId, parentSpanId: p.spanId, start: p.startTimeUnixNano + 1n }));
      }
      await s.writeTraces(traces(makeResourceSpans({ service: 'fe' }, fe), makeResourceSpans({ service: 'be' }, be)), ctx);
      assert.deepEqual(links(await s.getDependencies({ start: t0, end: t0 + 3n * SECOND }, ctx)), ['fe->be:2000']);
      assert.deepEqual(links(await s.getDependencies({ start: t0, end: t0 + 999n * MS + 1n }, ctx)), ['fe->be:1000'], 'half the window, half the calls');
    });
  });
});

describe('clickhouse operations', () => {
  test('every span kind (unspecified included) by name and filter; names with quotes, backslashes and unicode', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const traceId = newTraceId();
      const kinds = [SpanKind.UNSPECIFIED, SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
      const names = ["it's", 'back\\slash', 'üñí €', 'tab\there', '{"json": 1}'];
      await s.writeTraces(
        traces(makeResourceSpans({ service: 'svc' }, names.flatMap((name, i) => kinds.filter((_, k) => (k + i) % 2 === 0).map((kind) => makeSpan({ traceId, name, kind, start: t0 }))))),
        ctx,
      );
      // Sorted by name; the order of kinds within one name is left open here (api.ts says "then
      // kind": the memory store orders kinds by name, this backend by OTLP number).
      const canon = (ops: readonly { name: string; spanKind: string }[]) => ops.map((o) => `${o.name}/${o.spanKind}`).sort();
      const all = await s.getOperations({ serviceName: 'svc' }, ctx);
      const expected = names.flatMap((name, i) => kinds.filter((_, k) => (k + i) % 2 === 0).map((kind) => ({ name, spanKind: spanKindNames[kind]! })));
      assert.deepEqual(canon(all), canon(expected));
      assert.deepEqual(all.map((o) => o.name), [...all.map((o) => o.name)].sort(), 'sorted by name');
      for (const kind of spanKindNames) {
        const got = await s.getOperations({ serviceName: 'svc', spanKind: kind }, ctx);
        assert.deepEqual(got, [...expected.filter((o) => o.spanKind === kind)].sort((a, b) => (a.name < b.name ? -1 : 1)), `spanKind ${kind}`);
      }
    });
  });

  test('an operation written in many batches over several days is listed once; operations are per tenant', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      for (let i = 0; i < 6; i++) {
        const start = t0 - BigInt(i) * 20n * HOUR; // spans over ~4 days (several partitions)
        await s.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: newTraceId(), name: 'GET /x', kind: SpanKind.SERVER, start })])), ctx);
      }
      await s.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: newTraceId(), name: 'other-tenant-op', kind: SpanKind.SERVER, start: t0 })])), { tenant: 't2' });
      assert.deepEqual(await s.getOperations({ serviceName: 'svc' }, ctx), [{ name: 'GET /x', spanKind: 'server' }]);
      assert.deepEqual(await s.getOperations({ serviceName: 'svc', spanKind: 'server' }, ctx), [{ name: 'GET /x', spanKind: 'server' }]);
      assert.deepEqual(await s.getOperations({ serviceName: 'svc' }, { tenant: 't2' }), [{ name: 'other-tenant-op', spanKind: 'server' }]);
      assert.deepEqual(await s.getServices(ctx), ['svc']);
    });
  });
});

describe('clickhouse search without a service', () => {
  test('traces spread over days: exact newest-first order at every searchDepth, with and without time bounds', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      // 40 traces, one span each, at irregular times over ~3 days, several services; dense near now.
      const offsets = Array.from({ length: 40 }, (_, i) => (i < 20 ? BigInt(i) * 7n * SECOND : BigInt(i) * 97n * 60n * SECOND + BigInt(i)));
      const list = offsets.map((off, i) => ({ id: newTraceId(), start: t0 - off, service: `svc-${i % 4}` }));
      for (let i = 0; i < 4; i++) {
        await s.writeTraces(traces(makeResourceSpans({ service: `svc-${i}` }, list.filter((x) => x.service === `svc-${i}`).map((x) => makeSpan({ traceId: x.id, start: x.start })))), ctx);
      }
      const newestFirst = [...list].sort((a, b) => (a.start > b.start ? -1 : 1)).map((x) => x.id);
      for (const depth of [1, 2, 5, 19, 20, 21, 39, 40, 100]) {
        assert.deepEqual(await ids(s, { searchDepth: depth }), newestFirst.slice(0, depth), `searchDepth ${depth}`);
      }
      // Time bounds as the query API passes them (both), in the middle of the data.
      const lo = t0 - 60n * HOUR;
      const hi = t0 - 35n * HOUR;
      const inWindow = [...list].filter((x) => x.start >= lo && x.start <= hi).sort((a, b) => (a.start > b.start ? -1 : 1)).map((x) => x.id);
      assert.ok(inWindow.length >= 5, `${inWindow.length} traces in the window`);
      for (const depth of [1, 3, inWindow.length, 100]) {
        // Twice: the second run reuses the span-rate estimate of the first.
        for (const run of [1, 2]) assert.deepEqual(await ids(s, { searchDepth: depth, startTimeMin: lo, startTimeMax: hi }), inWindow.slice(0, depth), `window, depth ${depth}, run ${run}`);
      }
    });
  });

  test('found traces come back whole: one spanning two hours, and 2,100 at once (span queries in chunks)', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      // A long trace: its root two hours before the span that matches the search window.
      const longId = newTraceId();
      await s.writeTraces(
        traces(makeResourceSpans({ service: 'long-svc' }, [makeSpan({ traceId: longId, start: t0 - 2n * HOUR, name: 'root' }), makeSpan({ traceId: longId, start: t0, name: 'late' })])),
        ctx,
      );
      const found = await collect(s.findTraces({ serviceName: 'long-svc', searchDepth: 5, startTimeMin: t0 - 10n * SECOND, startTimeMax: t0 + SECOND }, ctx));
      assert.equal(found.length, 1);
      assert.equal(found[0]!.spanCount, 2, 'the span two hours earlier comes with the trace');
      // More traces than one span query takes: 2,100 traces of two spans, one per second.
      const many = Array.from({ length: 2100 }, (_, i) => ({ id: newTraceId(), start: t0 - BigInt(i) * SECOND }));
      await s.writeTraces(
        traces(makeResourceSpans({ service: 'many' }, many.flatMap((x) => [makeSpan({ traceId: x.id, start: x.start }), makeSpan({ traceId: x.id, start: x.start + 10n * MS })]))),
        ctx,
      );
      const all = await collect(s.findTraces({ serviceName: 'many', searchDepth: 2100, startTimeMin: t0 - 2n * HOUR, startTimeMax: t0 + HOUR }, ctx));
      assert.equal(all.length, 2100);
      assert.ok(all.every((td) => td.spanCount === 2), 'every trace whole');
      assert.deepEqual(new Set(all.map((td) => [...td.resourceSpans()][0]!.scopeSpans[0]!.spans[0]!.traceId)), new Set(many.map((x) => x.id)));
    });
  });

  test('found traces in a few minutes come back whole (spans fetched per minute), nothing of other traces', async () => {
    await withFreshStore(async (s) => {
      const minute = 60n * SECOND;
      const m0 = (baseTime() / minute) * minute;
      // A: spans in three minutes (one just before a minute boundary, one just after); B: one minute;
      // C: another service in the same minutes, with a span id equal to one of A's.
      const [a, b, c] = [newTraceId(), newTraceId(), newTraceId()];
      const shared = newSpanId();
      // A's spans in three writes: three rows of the trace id → time range table (parts not merged).
      await s.writeTraces(traces(makeResourceSpans({ service: 'few' }, [makeSpan({ traceId: a, start: m0 + 2n * minute + 30n * SECOND, name: 'a2' })])), ctx);
      await s.writeTraces(traces(makeResourceSpans({ service: 'few' }, [makeSpan({ traceId: a, spanId: shared, start: m0 + minute - MS, name: 'a0' })])), ctx);
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'few' }, [makeSpan({ traceId: a, start: m0 + minute + MS, name: 'a1' }), makeSpan({ traceId: b, start: m0 + minute + 5n * SECOND, name: 'b0' })]),
          makeResourceSpans({ service: 'other' }, [makeSpan({ traceId: c, spanId: shared, start: m0 + minute + 2n * SECOND, name: 'c0' })]),
        ),
        ctx,
      );
      const found = await collect(s.findTraces({ serviceName: 'few', searchDepth: 10, startTimeMin: m0, startTimeMax: m0 + 3n * minute }, ctx));
      assert.deepEqual(found.map(spanNames), ['a0,a1,a2', 'b0']);
    });
  });

  test('found traces in a few seconds come back whole (spans fetched per second, then as a set), nothing of other traces', async () => {
    await withFreshStore(async (s) => {
      const s0 = (baseTime() / SECOND) * SECOND;
      // Every trace has a span in the last millisecond of a second and one just after; `other`
      // shares a span id with each, in the same seconds. Three seconds of traces (pairs per
      // second), then eight (a set of (second, trace id) pairs).
      for (const seconds of [3, 8]) {
        const svc = `few${seconds}`;
        const want: string[] = [];
        for (let i = 0; i < seconds; i++) {
          const id = newTraceId();
          const shared = newSpanId();
          const t = s0 + BigInt(10 * seconds + i) * SECOND;
          // In two writes: two rows of the trace id → time range table (parts not merged).
          await s.writeTraces(traces(makeResourceSpans({ service: svc }, [makeSpan({ traceId: id, spanId: shared, start: t - MS, name: `${i}a` })])), ctx);
          await s.writeTraces(
            traces(
              makeResourceSpans({ service: svc }, [makeSpan({ traceId: id, start: t + MS, name: `${i}b` })]),
              makeResourceSpans({ service: 'other' }, [makeSpan({ traceId: newTraceId(), spanId: shared, start: t - MS, name: 'x' })]),
            ),
            ctx,
          );
          want.push(`${i}a,${i}b`);
        }
        const found = await collect(s.findTraces({ serviceName: svc, searchDepth: 20, startTimeMin: s0, startTimeMax: s0 + 100n * SECOND }, ctx));
        assert.deepEqual(found.map(spanNames).sort(), want.sort(), `${seconds} seconds`);
      }
    });
  });

  test('found traces reaching beyond the seconds of their matching spans come back whole (read while their ranges are looked up, then again)', async () => {
    await withFreshStore(async (s) => {
      const s0 = (baseTime() / SECOND) * SECOND;
      // The matching span (service 'near') of each trace, and spans of another service around it:
      // within a few ms, across a second boundary just within and just beyond the guessed margin, 3 s
      // and 40 s later, 10 minutes earlier. `x` shares span ids and seconds but is another trace.
      const cases: [string, bigint[]][] = [
        ['close', [2n * MS]],
        ['boundary', [400n * MS]],
        ['beyond', [1200n * MS]],
        ['later', [3n * SECOND, 40n * SECOND]],
        ['earlier', [-600n * SECOND]],
      ];
      const want: string[] = [];
      let i = 0;
      for (const [name, offsets] of cases) {
        const id = newTraceId();
        const t = s0 + BigInt(10 + i++) * SECOND + 999n * MS; // the last ms of a second
        const shared = newSpanId();
        await s.writeTraces(
          traces(
            makeResourceSpans({ service: 'near' }, [makeSpan({ traceId: id, spanId: shared, start: t, name: `${name}0` })]),
            makeResourceSpans({ service: 'far' }, offsets.map((o, j) => makeSpan({ traceId: id, start: t + o, name: `${name}${j + 1}` }))),
            makeResourceSpans({ service: 'x' }, offsets.map((o) => makeSpan({ traceId: newTraceId(), spanId: shared, start: t + o, name: 'x' }))),
          ),
          ctx,
        );
        want.push([`${name}0`, ...offsets.map((_, j) => `${name}${j + 1}`)].sort().join(','));
      }
      // Matching spans two hours apart: not guessed (over PAIR_BUCKETS seconds), read by its range.
      const wide = newTraceId();
      await s.writeTraces(
        traces(makeResourceSpans({ service: 'near' }, [makeSpan({ traceId: wide, start: s0 + 30n * SECOND, name: 'wide0' }), makeSpan({ traceId: wide, start: s0 + 30n * SECOND + 2n * HOUR, name: 'wide1' })])),
        ctx,
      );
      want.push('wide0,wide1');
      const found = await collect(s.findTraces({ serviceName: 'near', searchDepth: 20, startTimeMin: s0, startTimeMax: s0 + 3n * HOUR }, ctx));
      assert.deepEqual(found.map(spanNames).sort(), want.sort());
      assert.ok(found.every((td) => new Set(flatten(td).map((f) => f.span.spanId)).size === td.spanCount), 'no span twice');
      // A found trace without its time-range row (not visible yet) is left out, as by id.
      const first = flatten(found[0]!)[0]!.span.traceId;
      await s.clickhouse.command({ query: `ALTER TABLE \`${s.database}\`.otel_traces_trace_id_ts DELETE WHERE TraceId = '${first}' SETTINGS mutations_sync = 1` });
      const again = await collect(s.findTraces({ serviceName: 'near', searchDepth: 20, startTimeMin: s0, startTimeMax: s0 + 3n * HOUR }, ctx));
      assert.equal(again.length, found.length - 1);
      assert.ok(!again.some((td) => flatten(td)[0]!.span.traceId === first));
      assert.equal((await collect(s.getTraces([{ traceId: first }], ctx))).length, 0);
    });
  });

  test('a store whose span table sorts by the minute (earlier releases) is read exactly', async () => {
    const cfg = testConfig();
    const o = { database: cfg.database, ttlSeconds: 0, cluster: '' };
    // The span table as earlier releases created it; the migrations then add the rest around it.
    await withFreshStore(async (other) => {
      await other.clickhouse.command({ query: `CREATE DATABASE ${cfg.database}` });
      const ddl = MIGRATIONS[0]!.statements(o)[0]!;
      assert.ok(ddl.includes(SECOND_KEY.expr));
      await other.clickhouse.command({ query: ddl.replace(SECOND_KEY.expr, MINUTE_KEY.expr) });
    });
    await withStore(new ClickHouseStore({ config: cfg, name: 'test' }), async (s) => {
      const rs = await s.clickhouse.query({ query: `SELECT sorting_key FROM system.tables WHERE database = '${cfg.database}' AND name = 'otel_traces'`, format: 'JSONCompactEachRow' });
      assert.match(JSON.stringify(await rs.json()), /toStartOfMinute\(Timestamp\)/);
      const minute = 60n * SECOND;
      const m0 = (baseTime() / minute) * minute;
      // A: over three minutes; B: one minute; L: three hours; C: another service sharing a span id with A.
      const [a, b, l, c] = [newTraceId(), newTraceId(), newTraceId(), newTraceId()];
      const shared = newSpanId();
      const root = newSpanId();
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'front' }, [
            makeSpan({ traceId: a, spanId: root, start: m0 + minute - MS, name: 'a0' }),
            makeSpan({ traceId: l, start: m0 - 3n * HOUR, name: 'l0' }),
          ]),
          makeResourceSpans({ service: 'back' }, [
            makeSpan({ traceId: a, spanId: shared, parentSpanId: root, start: m0 + minute + MS, name: 'a1' }),
            makeSpan({ traceId: a, start: m0 + 2n * minute + 30n * SECOND, name: 'a2' }),
            makeSpan({ traceId: b, start: m0 + minute + 5n * SECOND, name: 'b0' }),
            makeSpan({ traceId: l, start: m0 + 2n * minute, name: 'l1' }),
          ]),
          makeResourceSpans({ service: 'other' }, [makeSpan({ traceId: c, spanId: shared, start: m0 + minute + 2n * SECOND, name: 'c0' })]),
        ),
        ctx,
      );
      const found = await collect(s.findTraces({ serviceName: 'back', searchDepth: 10, startTimeMin: m0, startTimeMax: m0 + 3n * minute }, ctx));
      assert.deepEqual(found.map(spanNames).sort(), ['a0,a1,a2', 'b0', 'l0,l1']);
      const got = await collect(s.getTraces([{ traceId: a }, { traceId: l }, { traceId: c }], ctx));
      assert.deepEqual(got.map(spanNames).sort(), ['a0,a1,a2', 'c0', 'l0,l1']);
      assert.deepEqual(links(await s.getDependencies({ start: m0, end: m0 + 3n * minute }, ctx)), ['front->back:1']);
    });
  });

  test('a selective search shape that matched fewer traces than asked takes one window next time; results stay exact', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      // 60 traces with k=common, one per 40 minutes over ~40 hours; 3 with k=rare.
      const common = Array.from({ length: 60 }, (_, i) => ({ id: newTraceId(), start: t0 - BigInt(i) * 40n * 60n * SECOND }));
      const rare = Array.from({ length: 3 }, (_, i) => ({ id: newTraceId(), start: t0 - BigInt(i) * 7n * HOUR - 5n * SECOND }));
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'svc' }, [
            ...common.map((x) => makeSpan({ traceId: x.id, start: x.start, attributes: [str('k', 'common')] })),
            ...rare.map((x) => makeSpan({ traceId: x.id, start: x.start, attributes: [str('k', 'rare')] })),
          ]),
        ),
        ctx,
      );
      // Count the window queries of each search.
      let windows = 0;
      const rows = (s as unknown as { rows: (q: string, p: unknown, w: string) => Promise<unknown[]> }).rows.bind(s);
      (s as unknown as { rows: typeof rows }).rows = (q, p, w) => {
        if (q.includes('GROUP BY TraceId ORDER BY')) windows++;
        return rows(q, p, w);
      };
      const search = async (v: string) => {
        windows = 0;
        const q = { attributes: new Map([['k', v]]), searchDepth: 20, startTimeMin: t0 - 48n * HOUR, startTimeMax: t0 + SECOND };
        const found = (await collect(s.findTraces(q, ctx))).map((td) => [...td.resourceSpans()][0]!.scopeSpans[0]!.spans[0]!.traceId);
        return { found, windows };
      };
      const newestCommon = common.slice(0, 20).map((x) => x.id);
      assert.deepEqual(await search('rare'), { found: rare.map((x) => x.id), windows: 2 }, 'first: 1/16 of the range, then the rest');
      assert.deepEqual(await search('rare'), { found: rare.map((x) => x.id), windows: 1 }, 'learnt: fewer than asked, so the whole range at once');
      assert.deepEqual(await search('common'), { found: newestCommon, windows: 1 }, 'same shape, many matches: still exact');
      assert.deepEqual(await search('common'), { found: newestCommon, windows: 2 }, 'learnt back: windows again');
      assert.deepEqual((await ids(s, { attributes: new Map([['k', 'rare']]), searchDepth: 20, startTimeMin: t0 - 48n * HOUR, startTimeMax: t0 + SECOND })), rare.map((x) => x.id));
      // A duration bound alone is not learnt: it matches few spans of one service and many of another.
      for (const run of [1, 2]) {
        windows = 0;
        const found = await collect(s.findTraces({ durationMin: 10n ** 15n, searchDepth: 20, startTimeMin: t0 - 48n * HOUR, startTimeMax: t0 + SECOND }, ctx));
        assert.deepEqual([found.length, windows], [0, 2], `duration only, run ${run}`);
      }
    });
  });

  test('a search by service primes the span rates of the services active at its end: the next service asks no bounds query', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'a' }, [makeSpan({ traceId: newTraceId(), start: t0 })]),
          makeResourceSpans({ service: 'b' }, [makeSpan({ traceId: newTraceId(), start: t0 - SECOND })]),
          makeResourceSpans({ service: 'old' }, [makeSpan({ traceId: newTraceId(), start: t0 - 2n * HOUR })]),
        ),
        ctx,
      );
      let queries = 0;
      for (const client of s.readers) {
        const query = client.query.bind(client);
        client.query = ((params: Parameters<typeof query>[0]) => {
          queries++;
          return query(params);
        }) as typeof client.query;
      }
      const search = async (service: string) => {
        queries = 0;
        const found = await collect(s.findTraces({ serviceName: service, searchDepth: 5, startTimeMin: t0 - 3n * HOUR, startTimeMax: t0 + SECOND }, ctx));
        return { found: found.length, queries };
      };
      // The rates of all services, then the search's ids and time ranges (its spans come by exec).
      assert.deepEqual(await search('a'), { found: 1, queries: 3 });
      assert.deepEqual(await search('b'), { found: 1, queries: 2 }, 'b was primed');
      // Last seen two hours before the window's end: its own bounds query places its first window
      // (the rates are not primed again within their lifetime).
      assert.deepEqual(await search('old'), { found: 1, queries: 3 });
      assert.deepEqual(await search('old'), { found: 1, queries: 2 }, 'then its own estimate is cached');
    });
  });

  test('a repeated bounded search sees data written between the runs', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const q: TraceQuery = { searchDepth: 3, startTimeMin: t0 - 10n * HOUR, startTimeMax: t0 + HOUR };
      const old = Array.from({ length: 5 }, (_, i) => ({ id: newTraceId(), start: t0 - BigInt(i + 1) * HOUR }));
      await s.writeTraces(traces(makeResourceSpans({ service: 'a' }, old.map((x) => makeSpan({ traceId: x.id, start: x.start })))), ctx);
      assert.deepEqual(await ids(s, q), old.slice(0, 3).map((x) => x.id));
      // Much denser data arrives (the cached rate estimate is now far off), newer than all.
      const burst = Array.from({ length: 300 }, (_, i) => ({ id: newTraceId(), start: t0 + BigInt(i) * MS }));
      await s.writeTraces(traces(makeResourceSpans({ service: 'b' }, burst.map((x) => makeSpan({ traceId: x.id, start: x.start })))), ctx);
      assert.deepEqual(await ids(s, q), burst.slice(-3).reverse().map((x) => x.id));
      assert.deepEqual(await ids(s, { ...q, searchDepth: 400 }), [...burst.map((x) => x.id).reverse(), ...old.map((x) => x.id)]);
    });
  });

  test('span kind and operation without a service apply to one span', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const [server, client, split] = [newTraceId(), newTraceId(), newTraceId()];
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'a' }, [
            makeSpan({ traceId: server, name: 'GET', kind: SpanKind.SERVER, start: t0 }),
            makeSpan({ traceId: split, name: 'GET', kind: SpanKind.INTERNAL, start: t0 + 1n }),
          ]),
          makeResourceSpans({ service: 'b' }, [
            makeSpan({ traceId: client, name: 'GET', kind: SpanKind.CLIENT, start: t0 + 2n }),
            makeSpan({ traceId: split, name: 'POST', kind: SpanKind.SERVER, start: t0 + 3n }),
          ]),
        ),
        ctx,
      );
      assert.deepEqual(await ids(s, { operationName: 'GET', spanKind: 'server', searchDepth: 10 }), [server]);
      assert.deepEqual(await ids(s, { spanKind: 'server', searchDepth: 10 }), [split, server]);
      assert.deepEqual(await ids(s, { spanKind: 'client', searchDepth: 10 }), [client]);
      assert.deepEqual(await ids(s, { spanKind: 'producer', searchDepth: 10 }), []);
    });
  });
});

describe('clickhouse attribute search over resource, event and link attributes', () => {
  test('one key in span, resource, event and link attributes of different traces: all found, each by its own value', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const [onSpan, onResource, onEvent, onLink, without] = [newTraceId(), newTraceId(), newTraceId(), newTraceId(), newTraceId()];
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'svc' }, [
            makeSpan({ traceId: onSpan, start: t0, attributes: [str('tier', 'gold')] }),
            makeSpan({ traceId: onEvent, start: t0 + 1n, events: [event(t0, [str('tier', 'gold')])] }),
            makeSpan({ traceId: onLink, start: t0 + 2n, links: [link([str('tier', 'gold')])] }),
            makeSpan({ traceId: without, start: t0 + 3n, attributes: [str('tier', 'silver')] }),
          ]),
          makeResourceSpans({ service: 'svc', resourceAttributes: [str('tier', 'gold')] }, [makeSpan({ traceId: onResource, start: t0 + 4n })]),
        ),
        ctx,
      );
      assert.deepEqual(await ids(s, { attributes: new Map([['tier', 'gold']]), searchDepth: 10 }), [onResource, onLink, onEvent, onSpan]);
      assert.deepEqual(await ids(s, { serviceName: 'svc', attributes: new Map([['tier', 'silver']]), searchDepth: 10 }), [without]);
    });
  });

  test('keys with quotes, backslashes and unicode on resources are recorded and found (their INSERT has the values in its SQL)', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const tenant = { tenant: "o'neil\\corp" };
      const keys = ["it's", 'back\\slash', 'üñí €', "'); DROP TABLE x; --"];
      const want: TraceId[] = [];
      for (const [i, k] of keys.entries()) {
        const id = newTraceId();
        want.push(id);
        await s.writeTraces(traces(makeResourceSpans({ service: 'q', resourceAttributes: [str(k, `v'${i}\\`)] }, [makeSpan({ traceId: id, start: t0 + BigInt(i) })])), tenant);
      }
      for (const [i, k] of keys.entries()) {
        assert.deepEqual(await ids(s, { attributes: new Map([[k, `v'${i}\\`]]), searchDepth: 10 }, tenant), [want[i]], k);
      }
      assert.deepEqual(await ids(s, { attributes: new Map([[keys[0]!, "v'0\\"]]), searchDepth: 10 }), [], 'other tenant');
    });
  });

  test('a key first seen on a resource after earlier searches, and in another tenant, is still found', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const first = newTraceId();
      await s.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: first, start: t0, attributes: [str('region', 'eu')] })])), ctx);
      assert.deepEqual(await ids(s, { attributes: new Map([['region', 'eu']]), searchDepth: 10 }), [first]);
      assert.deepEqual(await ids(s, { attributes: new Map([['region', 'us']]), searchDepth: 10 }), []);
      // Later the same key arrives as a resource attribute, then as a link attribute.
      const viaResource = newTraceId();
      const viaLink = newTraceId();
      await s.writeTraces(traces(makeResourceSpans({ service: 'svc', resourceAttributes: [str('region', 'us')] }, [makeSpan({ traceId: viaResource, start: t0 + 1n })])), ctx);
      await s.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: viaLink, start: t0 + 2n, links: [link([str('region', 'us')])] })])), ctx);
      assert.deepEqual(await ids(s, { attributes: new Map([['region', 'us']]), searchDepth: 10 }), [viaLink, viaResource]);
      // Tenant b writes the key on a resource after tenant a did.
      const b = { tenant: 'b' };
      const inB = newTraceId();
      await s.writeTraces(traces(makeResourceSpans({ service: 'svc', resourceAttributes: [str('region', 'us')] }, [makeSpan({ traceId: inB, start: t0 })])), b);
      assert.deepEqual(await ids(s, { attributes: new Map([['region', 'us']]), searchDepth: 10 }, b), [inB]);
      assert.deepEqual(await ids(s, { attributes: new Map([['region', 'us']]), searchDepth: 10 }), [viaLink, viaResource], 'tenants stay apart');
    });
  });

  test('an empty value matches the key with an empty value only, on every kind of attribute', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const tr = { span: newTraceId(), res: newTraceId(), ev: newTraceId(), ln: newTraceId(), none: newTraceId(), other: newTraceId() };
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'svc' }, [
            makeSpan({ traceId: tr.span, start: t0, attributes: [str('note', '')] }),
            makeSpan({ traceId: tr.ev, start: t0 + 1n, events: [event(t0, [str('note', '')])] }),
            makeSpan({ traceId: tr.ln, start: t0 + 2n, links: [link([str('note', '')])] }),
            makeSpan({ traceId: tr.none, start: t0 + 3n }),
            makeSpan({ traceId: tr.other, start: t0 + 4n, attributes: [str('note', 'x')] }),
          ]),
          makeResourceSpans({ service: 'svc', resourceAttributes: [str('note', '')] }, [makeSpan({ traceId: tr.res, start: t0 + 5n })]),
        ),
        ctx,
      );
      assert.deepEqual(await ids(s, { attributes: new Map([['note', '']]), searchDepth: 10 }), [tr.res, tr.ln, tr.ev, tr.span]);
    });
  });

  test('typed values on resources, events and links match by their string form', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const [r, e, l] = [newTraceId(), newTraceId(), newTraceId()];
      await s.writeTraces(
        traces(
          makeResourceSpans({ service: 'svc', resourceAttributes: [bool('canary', true), dbl('weight', 0.25), int('port', 8080)] }, [makeSpan({ traceId: r, start: t0 })]),
          makeResourceSpans({ service: 'svc' }, [
            makeSpan({ traceId: e, start: t0 + 1n, events: [event(t0, [bool('canary', false), dbl('weight', 1.5), int('port', -1)])] }),
            makeSpan({ traceId: l, start: t0 + 2n, links: [link([bool('canary', true), dbl('weight', 1e21), int('port', 9223372036854775807n)])] }),
          ]),
        ),
        ctx,
      );
      const q = (k: string, v: string) => ids(s, { attributes: new Map([[k, v]]), searchDepth: 10 });
      assert.deepEqual(await q('canary', 'true'), [l, r]);
      assert.deepEqual(await q('canary', 'false'), [e]);
      assert.deepEqual(await q('weight', '0.25'), [r]);
      assert.deepEqual(await q('weight', '1.5'), [e]);
      assert.deepEqual(await q('weight', '1e+21'), [l]);
      assert.deepEqual(await q('port', '8080'), [r]);
      assert.deepEqual(await q('port', '-1'), [e]);
      assert.deepEqual(await q('port', '9223372036854775807'), [l]);
      assert.deepEqual(await ids(s, { attributes: new Map([['canary', 'true'], ['port', '8080']]), searchDepth: 10 }), [r], 'two resource attributes on one span');
      assert.deepEqual(await ids(s, { attributes: new Map([['canary', 'true'], ['port', '-1']]), searchDepth: 10 }), [], 'values from different spans do not combine');
    });
  });
});

// ------------------------------------------------------------------------------------------------
// Differential: the same generated data in the memory store and in ClickHouse, the same queries.
// ------------------------------------------------------------------------------------------------

interface Dataset {
  batches: { rs: ResourceSpans[] }[];
  values: { services: string[]; ops: string[]; attrs: [string, string][]; durations: bigint[]; starts: bigint[] };
}

function generate(seed: number, t0: bigint): Dataset {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const services = ['cart', 'checkout', 'payment', 'shipping', 'email', 'ads'];
  const opsOf = (svc: string) => [`${svc}.get`, `${svc}.put`, 'HTTP GET', 'db.query'];
  const kinds = [SpanKind.UNSPECIFIED, SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
  const bySvc = new Map<string, Map<string, Span[]>>(); // service → resource variant → spans
  const durations: bigint[] = [];
  const starts: bigint[] = [];
  let n = 0;
  for (let t = 0; t < 300; t++) {
    const traceId = newTraceId();
    // Trace starts over ~60 hours, denser in the last hour; every span start unique.
    const base = t0 - (r() < 0.4 ? BigInt(Math.floor(r() * 3600)) * SECOND : BigInt(Math.floor(r() * 60 * 3600)) * SECOND);
    const count = 1 + Math.floor(r() * 7);
    const spans: { span: Span; svc: string }[] = [];
    for (let i = 0; i < count; i++) {
      const svc = pick(services);
      const parent = i === 0 ? undefined : spans[Math.floor(r() * spans.length)]!.span;
      const start = base + BigInt(i) * MS + BigInt(++n) * 7n;
      const duration = BigInt(1 + Math.floor(r() * 500)) * 100_000n + BigInt(n);
      const attributes: KeyValue[] = [];
      if (r() < 0.6) attributes.push(int('http.status_code', pick([200, 200, 404, 500])));
      if (r() < 0.5) attributes.push(str('user.tier', pick(['free', 'pro', 'enterprise'])));
      if (r() < 0.3) attributes.push(bool('cache.hit', r() < 0.5));
      const span = makeSpan({
        traceId,
        parentSpanId: parent?.spanId ?? '',
        name: pick(opsOf(svc)),
        kind: pick(kinds),
        start,
        duration,
        attributes,
        events: r() < 0.2 ? [event(start + 1n, [str('exception.type', pick(['Timeout', 'IOError', 'NPE'])), int('retry', Math.floor(r() * 3))])] : [],
        links: r() < 0.15 ? [link([str('link.kind', pick(['follows', 'batch']))])] : [],
      });
      spans.push({ span, svc });
      durations.push(duration);
      starts.push(start);
    }
    for (const { span, svc } of spans) {
      const variant = `${svc}|${Math.floor(r() * 2)}`;
      const m = bySvc.get(svc) ?? new Map<string, Span[]>();
      bySvc.set(svc, m);
      (m.get(variant) ?? m.set(variant, []).get(variant)!).push(span);
    }
  }
  // Each service exports its own batches (two resource variants: hosts and zones differ).
  const batches: { rs: ResourceSpans[] }[] = [];
  for (const [svc, variants] of bySvc) {
    const rs = [...variants].map(([variant, spans]) => {
      const v = Number(variant.split('|')[1]);
      return makeResourceSpans(
        { service: svc, resourceAttributes: [str('host.name', `${svc}-host-${v}`), str('cloud.zone', v === 0 ? 'eu-1' : 'us-2')], scope: { name: 'lib', attributes: [str('scope.lib', `lib-${v}`)] } },
        spans,
      );
    });
    // In two batches per service, as periodic exports would.
    batches.push({ rs: rs.slice(0, 1) }, { rs: rs.slice(1) });
  }
  const attrs: [string, string][] = [
    ['http.status_code', '200'],
    ['http.status_code', '500'],
    ['http.status_code', '404'],
    ['user.tier', 'pro'],
    ['user.tier', 'enterprise'],
    ['cache.hit', 'true'],
    ['exception.type', 'Timeout'],
    ['retry', '2'],
    ['link.kind', 'batch'],
    ['host.name', 'cart-host-1'],
    ['cloud.zone', 'eu-1'],
    ['scope.lib', 'lib-0'],
    ['no.such.key', 'x'],
  ];
  return { batches: batches.filter((b) => b.rs.length > 0), values: { services, ops: [...new Set(services.flatMap(opsOf))], attrs, durations, starts } };
}

function randomQueries(seed: number, v: Dataset['values'], n: number): TraceQuery[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const sorted = (a: bigint[]) => [...a].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const durations = sorted(v.durations);
  const starts = sorted(v.starts);
  const quantile = (a: bigint[], q: number) => a[Math.min(a.length - 1, Math.floor(q * a.length))]!;
  const out: TraceQuery[] = [];
  for (let i = 0; i < n; i++) {
    const q: { -readonly [K in keyof TraceQuery]: TraceQuery[K] } = { searchDepth: pick([1, 2, 5, 20, 100, 1000]) };
    if (r() < 0.5) q.serviceName = pick(v.services);
    if (r() < 0.3) q.operationName = pick(v.ops);
    if (r() < 0.25) q.spanKind = pick(spanKindNames);
    if (r() < 0.45) {
      const m = new Map<string, string>();
      for (let k = 0; k < (r() < 0.7 ? 1 : 2); k++) {
        const [key, val] = pick(v.attrs);
        m.set(key, val);
      }
      q.attributes = m;
    }
    if (r() < 0.25) q.durationMin = quantile(durations, r() * 0.9);
    if (r() < 0.25) q.durationMax = quantile(durations, 0.3 + r() * 0.7);
    const bounds = r();
    if (bounds < 0.5) {
      // As the query API sends them: both bounds.
      const a = quantile(starts, r() * 0.8);
      q.startTimeMin = a;
      q.startTimeMax = r() < 0.3 ? starts[starts.length - 1]! + HOUR : quantile(starts, 0.8 + r() * 0.2);
    } else if (bounds < 0.6) q.startTimeMin = quantile(starts, r());
    else if (bounds < 0.7) q.startTimeMax = quantile(starts, r());
    out.push(q);
  }
  return out;
}

function show(q: TraceQuery): string {
  return JSON.stringify(q, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Map ? Object.fromEntries(x) : x));
}

describe('clickhouse against the memory store (same data, same queries)', () => {
  test('services, operations by kind, 120 random searches (ids in order), dependencies over windows', async (t) => {
    const t0 = baseTime();
    const data = generate(20261125, t0);
    const mem = new MemoryStore({ maxTraces: 100_000 });
    const ch = newTestStore();
    await mem.start();
    await ch.start();
    try {
      for (const b of data.batches) {
        await mem.writeTraces(traces(...b.rs), ctx);
        await ch.writeTraces(traces(...b.rs), ctx);
      }
      const mismatches: string[] = [];
      const same = async (what: string, f: (s: TraceStore) => Promise<unknown>) => {
        const [m, c] = [await f(mem), await f(ch)];
        try {
          assert.deepEqual(c, m);
        } catch {
          mismatches.push(`${what}\n    memory:     ${JSON.stringify(m)}\n    clickhouse: ${JSON.stringify(c)}`);
        }
      };
      await same('getServices', (s) => s.getServices(ctx));
      // As sets: the order of kinds within a name differs between the backends (see above).
      const opSet = async (s: TraceStore, q: { serviceName: string; spanKind?: (typeof spanKindNames)[number] }) =>
        (await s.getOperations(q, ctx)).map((o) => `${o.name}/${o.spanKind}`).sort();
      for (const svc of data.values.services) {
        await same(`getOperations ${svc}`, (s) => opSet(s, { serviceName: svc }));
        for (const kind of spanKindNames) await same(`getOperations ${svc} ${kind}`, (s) => opSet(s, { serviceName: svc, spanKind: kind }));
      }
      const queries = randomQueries(7, data.values, 120);
      let nonEmpty = 0;
      const t1 = performance.now();
      for (const q of queries) {
        const m = await ids(mem, q);
        if (m.length > 0) nonEmpty++;
        await same(`findTraceIds ${show(q)}`, (s) => ids(s, q));
      }
      t.diagnostic(`${queries.length} searches (${nonEmpty} with results) in ${(performance.now() - t1).toFixed(0)} ms (both stores)`);
      assert.ok(nonEmpty >= 40, `the generated queries mostly find something (${nonEmpty})`);
      const starts = [...data.values.starts].sort((a, b) => (a < b ? -1 : 1));
      for (const [lo, hi] of [
        [starts[0]!, starts[starts.length - 1]!],
        [t0 - HOUR, t0],
        [t0 - 30n * HOUR, t0 - 10n * HOUR],
        [starts[100]!, starts[101]!],
      ] as const) {
        await same(`getDependencies ${lo}..${hi}`, async (s) => links(await s.getDependencies({ start: lo, end: hi }, ctx)));
      }
      assert.deepEqual(mismatches.slice(0, 8), [], `${mismatches.length} differences from the memory store`);
    } finally {
      await mem.close();
      await ch.close();
    }
  });
});

describe('clickhouse span answers (RowBinary)', () => {
  test('long and non-ASCII strings, empty and full maps and arrays, 64-bit values come back exactly, found or got', async () => {
    await withFreshStore(async (s) => {
      const t0 = baseTime();
      const traceId = newTraceId();
      // Lengths around the varint steps (1, 2, 3 bytes), in bytes of UTF-8.
      const texts = ['', 'x'.repeat(127), 'y'.repeat(128), 'é'.repeat(8192), 'z'.repeat(16384), '日本語 🚀 \u0000 "q" \\ $ \u2028'];
      const spans = texts.map((t, i) =>
        makeSpan({
          traceId,
          start: t0 + BigInt(i) * MS,
          duration: 2n ** 60n + BigInt(i),
          name: t || 'op',
          attributes: i % 2 ? [] : [str('s', t), str(t, 'key'), int('big', 9223372036854775807n), int('neg', -(2n ** 62n))],
          events: i % 3 ? [] : [event(t0 + 2n ** 53n + 1n, [str('e', t)]), event(t0, [])],
          links: i % 2 ? [link([str('l', t)])] : [],
          traceState: t,
          status: { code: StatusCode.ERROR, message: t },
        }),
      );
      const written = traces(
        makeResourceSpans({ service: 'svc', resourceAttributes: [str('r', 'é'.repeat(100)), str('empty', '')], scope: { name: '日本', version: '' } }, spans.slice(0, 3)),
        makeResourceSpans({ service: 'svc' }, spans.slice(3)),
      );
      await s.writeTraces(written, ctx);
      await s.flush();
      const bySpan = (t: Traces[]) => flatten(Traces.merge(t)).sort((a, b) => (a.span.spanId < b.span.spanId ? -1 : 1));
      const want = bySpan([written]);
      assert.deepEqual(bySpan(await collect(s.getTraces([{ traceId }], ctx))), want);
      assert.deepEqual(bySpan(await collect(s.findTraces({ serviceName: 'svc', searchDepth: 10 }, ctx))), want);
    });
  });
});
