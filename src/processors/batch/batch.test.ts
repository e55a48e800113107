import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryableError, PermanentError } from '../../component/errors.js';
import type { ConsumeContext, TracesConsumer } from '../../component/consumer.js';
import { Traces } from '../../pdata/traces.js';
import type { ResourceSpans, Span } from '../../pdata/model.js';
import { newSpanId, newTraceId, str } from '../../storage/conformance.js';
import { SinkConsumer } from '../../testutil/sink.js';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { testSettings } from '../../service/testing.js';
import { checkComponent } from '../../service/config.js';
import { BatchProcessor, splitTraces } from './batch.js';
import { createDefaultConfig, type Config } from './config.js';
import { factory } from './factory.js';

function traces(n: number, resources = 1): Traces {
  const rss: ResourceSpans[] = [];
  for (let r = 0; r < resources; r++) {
    const spans: Span[] = [];
    for (let i = 0; i < n; i++) {
      spans.push({
        traceId: newTraceId(),
        spanId: newSpanId(),
        traceState: '',
        parentSpanId: '',
        flags: 0,
        name: `op${i}`,
        kind: 1,
        startTimeUnixNano: 1n,
        endTimeUnixNano: 2n,
        attributes: [],
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: { code: 0, message: '' },
      });
    }
    rss.push({
      resource: { attributes: [str('service.name', `svc${r}`)], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }],
    });
  }
  return Traces.fromResourceSpans(rss);
}

const ctx: ConsumeContext = { tenant: '' };

function make(next: TracesConsumer, over: Partial<Config> = {}, metrics = new SelfMetrics()): BatchProcessor {
  const cfg = { ...createDefaultConfig(), ...over };
  return new BatchProcessor(testSettings('processor', 'batch', { metrics }), cfg, next);
}

describe('batch processor', () => {
  test('drain() sends what it holds at once and later data without waiting for the timer', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 1000, timeout: '30s' });
    const started = Date.now();
    const first = b.consumeTraces(traces(3), ctx);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(sink.spanCount, 0, 'held until the timer or drain');
    b.drain();
    await first;
    await b.consumeTraces(traces(2), ctx);
    assert.equal(sink.spanCount, 5);
    assert.ok(Date.now() - started < 5000, 'answered long before the 30 s timeout');
    await b.shutdown();
  });

  test('merges requests until send_batch_size, without copying, and resolves each caller after the export', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 10, timeout: '10s' });
    const parts = [traces(4), traces(4), traces(4)];
    let settled = 0;
    const ps = parts.map((p) => b.consumeTraces(p, ctx).then(() => settled++));
    await Promise.all(ps);
    assert.equal(settled, 3);
    assert.equal(sink.received.length, 1, 'one export of 12 spans (size reached at the third request)');
    assert.equal(sink.received[0]!.td.spanCount, 12);
    assert.deepEqual(sink.received[0]!.td.parts(), parts, 'merged by reference');
    await b.shutdown();
  });

  test('sends after timeout when the size is not reached', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 1000, timeout: '30ms' });
    const t0 = Date.now();
    await Promise.all([b.consumeTraces(traces(1), ctx), b.consumeTraces(traces(2), ctx)]);
    const took = Date.now() - t0;
    assert.ok(took >= 25, `waited for the timeout (${took}ms)`);
    assert.equal(sink.received.length, 1);
    assert.equal(sink.received[0]!.td.spanCount, 3);
    await b.shutdown();
  });

  test('timeout 0 sends every request at once', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { timeout: '0s' });
    await b.consumeTraces(traces(2), ctx);
    assert.equal(sink.received.length, 1);
    await b.shutdown();
  });

  test('batches per tenant', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 1000, timeout: '20ms' });
    await Promise.all([b.consumeTraces(traces(1), { tenant: 'a' }), b.consumeTraces(traces(2), { tenant: 'b' }), b.consumeTraces(traces(3), { tenant: 'a' })]);
    const byTenant = new Map(sink.received.map((r) => [r.ctx.tenant, r.td.spanCount]));
    assert.deepEqual(byTenant, new Map([['a', 4], ['b', 2]]));
    await b.shutdown();
  });

  test('send_batch_max_size splits batches, also inside one large request', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 5, send_batch_max_size: 5, timeout: '10s' });
    await Promise.all([b.consumeTraces(traces(3), ctx), b.consumeTraces(traces(6, 2), ctx)]);
    const sizes = sink.received.map((r) => r.td.spanCount);
    assert.ok(sizes.every((n) => n <= 5), `sizes ${sizes}`);
    assert.equal(sizes.reduce((a, n) => a + n, 0), 15);
    await b.shutdown();
  });

  test('splitTraces keeps resources and scopes with their spans', () => {
    const td = traces(5, 3); // 15 spans over 3 resources
    const pieces = splitTraces(td, 4);
    assert.deepEqual(pieces.map((p) => p.spanCount), [4, 4, 4, 3]);
    const services = pieces.flatMap((p) => p.resourceSpans().map((r) => (r.resource.attributes[0]!.value as { stringValue: string }).stringValue));
    assert.deepEqual(services, ['svc0', 'svc0', 'svc1', 'svc1', 'svc2', 'svc2']);
    const names = pieces.flatMap((p) => p.resourceSpans().flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.spanId))));
    const orig = td.resourceSpans().flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.spanId)));
    assert.deepEqual(names, orig);
  });

  test('a downstream error reaches every caller whose data was in the failed export', async () => {
    const sink = new SinkConsumer();
    sink.failWith = new PermanentError('bad data');
    const b = make(sink, { send_batch_size: 4, timeout: '10s' });
    const results = await Promise.allSettled([b.consumeTraces(traces(2), ctx), b.consumeTraces(traces(2), ctx)]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof PermanentError);
    }
    // The next batch succeeds again.
    sink.failWith = undefined;
    await Promise.all([b.consumeTraces(traces(2), ctx), b.consumeTraces(traces(2), ctx)]);
    assert.equal(sink.spanCount, 4);
    await b.shutdown();
  });

  test('a caller whose data was split fails when any of its parts fails', async () => {
    let calls = 0;
    const failing: TracesConsumer = {
      async consumeTraces() {
        if (++calls === 2) throw new RetryableError('second part failed');
      },
    };
    const b = make(failing, { send_batch_size: 3, send_batch_max_size: 3, timeout: '10s', max_concurrent_exports: 1 });
    await assert.rejects(b.consumeTraces(traces(7), ctx), /second part failed/);
    await b.shutdown();
  });

  test('a slow exporter produces backpressure: beyond max_pending_spans, new data is refused with RetryableError', async () => {
    const sink = new SinkConsumer();
    sink.hold();
    const metrics = new SelfMetrics();
    const b = make(sink, { send_batch_size: 10, timeout: '1ms', max_pending_spans: 30, max_concurrent_exports: 1 }, metrics);
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) accepted.push(b.consumeTraces(traces(10), ctx));
    assert.equal(b.pendingSpans, 30);
    await assert.rejects(b.consumeTraces(traces(1), ctx), (err: unknown) => {
      assert.ok(err instanceof RetryableError);
      assert.match(err.message, /is full: 30 spans are waiting/);
      assert.ok((err.retryAfterMs ?? 0) > 0);
      return true;
    });
    const dropped = await metrics.droppedSpans.get();
    assert.deepEqual(dropped.values.map((v) => [v.labels['reason'], v.value]), [['backpressure', 1]]);
    // Once the exporter catches up, data is accepted again and nothing accepted was lost.
    sink.release();
    await Promise.all(accepted);
    assert.equal(b.pendingSpans, 0);
    await b.consumeTraces(traces(10), ctx);
    assert.equal(sink.spanCount, 40);
    await b.shutdown();
  });

  test('a single request larger than the bound is accepted when nothing is pending', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 10, max_pending_spans: 5, timeout: '1ms' });
    await b.consumeTraces(traces(50), ctx);
    assert.equal(sink.spanCount, 50);
    await b.shutdown();
  });

  test('shutdown sends everything held and waits for the exports', async () => {
    const sink = new SinkConsumer();
    const b = make(sink, { send_batch_size: 1000, timeout: '1h' });
    const p = b.consumeTraces(traces(5), ctx);
    sink.hold();
    const done = b.shutdown();
    let finished = false;
    void done.then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(finished, false, 'shutdown waits for the export in flight');
    sink.release();
    await done;
    await p;
    assert.equal(sink.spanCount, 5);
    // After shutdown, late data is passed straight through (never dropped).
    await b.consumeTraces(traces(2), ctx);
    assert.equal(sink.spanCount, 7);
    await b.shutdown();
  });

  test('counts incoming and outgoing items', async () => {
    const metrics = new SelfMetrics();
    const b = make(new SinkConsumer(), { timeout: '0s' }, metrics);
    await b.consumeTraces(traces(3), ctx);
    await b.shutdown();
    const inc = await metrics.processorIncomingItems.get();
    const out = await metrics.processorOutgoingItems.get();
    assert.deepEqual(inc.values.map((v) => [v.labels, v.value]), [[{ processor: 'batch', otel_signal: 'traces' }, 3]]);
    assert.deepEqual(out.values.map((v) => v.value), [3]);
  });

  test('config defaults and validation', () => {
    const ok = checkComponent(factory, null, ['processors', 'batch']);
    assert.deepEqual(ok, { ok: true, value: { send_batch_size: 8192, send_batch_max_size: 0, timeout: '200ms', max_pending_spans: 0, max_concurrent_exports: 2 } });
    const bad = checkComponent(factory, { send_batch_size: 100, send_batch_max_size: 10, metadata_keys: ['x'] }, ['processors', 'batch']);
    assert.equal(bad.ok, false);
  });
});
