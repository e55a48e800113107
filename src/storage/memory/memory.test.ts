import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runStorageConformance, baseTime, collect, makeResourceSpans, makeSpan, newTraceId, traces, str } from '../conformance.js';
import { MemoryStore } from './memory.js';
import { factory } from './factory.js';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { nopLogger } from '../../telemetry/logger.js';
import { decodeTraceRequestProto, encodeTraceRequestProto } from '../../pdata/otlp.js';
import { Traces } from '../../pdata/traces.js';
import type { TraceId } from '../../pdata/model.js';

runStorageConformance({ name: 'memory', newStore: () => new MemoryStore({ maxTraces: 1000 }) });

const ctx = { tenant: '' };
const MS = 1_000_000n;

async function ids(store: MemoryStore, c = ctx): Promise<TraceId[]> {
  return (await collect(store.findTraceIds({ searchDepth: 1000 }, c))).map((f) => f.traceId);
}

describe('memory store', () => {
  test('evicts the oldest trace first and counts evicted spans', async () => {
    const metrics = new SelfMetrics();
    const store = new MemoryStore({ maxTraces: 3, metrics, component: 'jaeger_storage/mem' });
    await store.start();
    const t0 = baseTime();
    const tids = Array.from({ length: 5 }, () => newTraceId());
    // trace 0 has two spans; later spans of trace 0 join it while it is held
    await store.writeTraces(traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: tids[0]!, start: t0 }), makeSpan({ traceId: tids[0]!, start: t0 })])), ctx);
    await store.writeTraces(traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: tids[1]!, start: t0 + 1n })])), ctx);
    await store.writeTraces(traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: tids[2]!, start: t0 + 2n })])), ctx);
    await store.writeTraces(traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: tids[0]!, start: t0 + 3n })])), ctx);
    assert.equal(store.traceCount(ctx), 3);
    // trace 3 evicts trace 0 (the oldest by first arrival, 3 spans), trace 4 evicts trace 1
    await store.writeTraces(traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: tids[3]!, start: t0 + 4n }), makeSpan({ traceId: tids[4]!, start: t0 + 5n })])), ctx);
    assert.equal(store.traceCount(ctx), 3);
    assert.deepEqual((await ids(store)).sort(), [tids[2]!, tids[3]!, tids[4]!].sort());
    const got = await collect(store.getTraces([{ traceId: tids[0]! }], ctx));
    assert.equal(got.length, 0);
    const m = await metrics.droppedSpans.get();
    const ev = m.values.find((v) => v.labels.reason === 'evicted');
    assert.equal(ev?.value, 4);
    assert.equal(ev?.labels.component, 'jaeger_storage/mem');
    await store.close();
  });

  test('max_traces applies per tenant; tenants are isolated', async () => {
    const store = new MemoryStore({ maxTraces: 2 });
    const t0 = baseTime();
    const a = { tenant: 'a' };
    const b = { tenant: 'b' };
    const ta = Array.from({ length: 3 }, () => newTraceId());
    const tb = newTraceId();
    await store.writeTraces(traces(makeResourceSpans({ service: 'sb' }, [makeSpan({ traceId: tb, start: t0 })])), b);
    for (const id of ta) await store.writeTraces(traces(makeResourceSpans({ service: 'sa' }, [makeSpan({ traceId: id, start: t0 })])), a);
    assert.equal(store.traceCount(a), 2);
    assert.equal(store.traceCount(b), 1, 'tenant a filling up does not evict tenant b');
    assert.deepEqual(await ids(store, b), [tb]);
    assert.deepEqual(await store.getServices(b), ['sb']);
    assert.deepEqual((await ids(store, a)).sort(), ta.slice(1).sort());
  });

  test('stores decoded protobuf requests without copying, and returns snapshots', async () => {
    const store = new MemoryStore({ maxTraces: 10 });
    const t0 = baseTime();
    const traceId = newTraceId();
    const req = encodeTraceRequestProto([makeResourceSpans({ service: 'p' }, [makeSpan({ traceId, name: 'first', start: t0, attributes: [str('k', 'v')] })])]);
    await store.writeTraces(decodeTraceRequestProto(req).traces, ctx);
    const [first] = await collect(store.getTraces([{ traceId }], ctx));
    assert.equal(first!.spanCount, 1);
    // a merged batch (what the batch processor produces) of a proto part and an object part
    const merged = Traces.merge([
      decodeTraceRequestProto(encodeTraceRequestProto([makeResourceSpans({ service: 'p' }, [makeSpan({ traceId, name: 'second', start: t0 + MS })])])).traces,
      traces(makeResourceSpans({ service: 'q' }, [makeSpan({ traceId, name: 'third', start: t0 + 2n * MS })])),
    ]);
    await store.writeTraces(merged, ctx);
    assert.equal(first!.spanCount, 1, 'a returned value is not changed by later writes');
    const [all] = await collect(store.getTraces([{ traceId }], ctx));
    const names = all!.resourceSpans().flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name)));
    assert.deepEqual(names.sort(), ['first', 'second', 'third']);
    const found = await collect(store.findTraces({ attributes: new Map([['k', 'v']]), searchDepth: 5 }, ctx));
    assert.equal(found[0]!.spanCount, 3);
  });

  test('spans with invalid ids in object-model input are dropped and counted', async () => {
    const metrics = new SelfMetrics();
    const store = new MemoryStore({ maxTraces: 10, metrics });
    const t0 = baseTime();
    await store.writeTraces(
      traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: 'abc' as TraceId, start: t0 }), makeSpan({ traceId: newTraceId(), start: t0 })])),
      ctx,
    );
    assert.equal(store.traceCount(ctx), 1);
    const m = await metrics.droppedSpans.get();
    assert.equal(m.values.find((v) => v.labels.reason === 'invalid')?.value, 1);
  });

  test('factory: defaults, strict config, create', async () => {
    assert.deepEqual(factory.createDefaultConfig(), { max_traces: 100_000 });
    assert.equal(factory.type, 'memory');
    assert.ok(factory.configSchema.safeParse({ max_traces: 5 }).success);
    assert.ok(!factory.configSchema.safeParse({ max_traces: 0 }).success);
    assert.ok(!factory.configSchema.safeParse({ max_traces: 5, extra: 1 }).success, 'unknown keys are errors');
    const store = factory.create({ max_traces: 5 }, { logger: nopLogger(), metrics: new SelfMetrics(), name: 'mem' });
    await store.start();
    assert.deepEqual(store.capabilities(), { findTraceIds: true, dependencies: true, durable: false });
    await store.close();
  });
});
