import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { RetryableError } from '../../component/errors.js';
import { Traces } from '../../pdata/traces.js';
import { encodeTraceRequestProto } from '../../pdata/proto-encode.js';
import { newSpanId, newTraceId, str } from '../../storage/conformance.js';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { SinkConsumer } from '../../testutil/sink.js';
import { freePorts } from '../../testutil/ports.js';
import { bareHost, captureLogger, testSettings } from '../../service/testing.js';
import { checkComponent } from '../../service/config.js';
import { startService } from '../../service/service.js';
import { createDefaultConfig, type Config } from './config.js';
import { factory } from './factory.js';
import { computeLimits, memoryInUse, MemoryLimiterProcessor } from './memory-limiter.js';

const MiB = 1024 * 1024;

function oneSpan(): Traces {
  return Traces.fromResourceSpans([
    {
      resource: { attributes: [str('service.name', 'm')], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [
        {
          scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
          schemaUrl: '',
          spans: [
            {
              traceId: newTraceId(),
              spanId: newSpanId(),
              traceState: '',
              parentSpanId: '',
              flags: 0,
              name: 'x',
              kind: 1,
              startTimeUnixNano: 1_700_000_000_000_000_000n,
              endTimeUnixNano: 1_700_000_000_000_001_000n,
              attributes: [],
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              links: [],
              droppedLinksCount: 0,
              status: { code: 0, message: '' },
            },
          ],
        },
      ],
    },
  ]);
}

function make(over: Partial<Config>, metrics = new SelfMetrics()) {
  const sink = new SinkConsumer();
  const p = new MemoryLimiterProcessor(testSettings('processor', 'memory_limiter', { metrics, logger: captureLogger().logger }), { ...createDefaultConfig(), ...over }, sink);
  return { p, sink, metrics };
}

describe('memory_limiter', () => {
  test('above the soft limit, data is refused with a RetryableError and counted as dropped (memory_limit)', async () => {
    const { p, sink, metrics } = make({ limit_mib: 2, spike_limit_mib: 1 });
    await p.start(bareHost());
    try {
      assert.ok(memoryInUse() > 1 * MiB);
      assert.equal(p.isRefusing, true);
      await assert.rejects(p.consumeTraces(oneSpan(), { tenant: '' }), (err: unknown) => {
        assert.ok(err instanceof RetryableError);
        assert.match(err.message, /above the soft limit of 1 MiB \(memory_limiter "memory_limiter"\)/);
        assert.equal(err.retryAfterMs, 1000);
        return true;
      });
      assert.equal(sink.spanCount, 0);
      const dropped = await metrics.droppedSpans.get();
      assert.deepEqual(dropped.values.map((v) => [v.labels, v.value]), [[{ reason: 'memory_limit', component: 'processor/memory_limiter' }, 1]]);
      const inc = await metrics.processorIncomingItems.get();
      assert.equal(inc.values[0]?.value, 1);
    } finally {
      await p.shutdown();
    }
  });

  test('below the soft limit, data passes through', async () => {
    const { p, sink, metrics } = make({ limit_mib: 1024 * 1024 });
    await p.start(bareHost());
    try {
      assert.equal(p.isRefusing, false);
      await p.consumeTraces(oneSpan(), { tenant: '' });
      assert.equal(sink.spanCount, 1);
      assert.equal((await metrics.processorOutgoingItems.get()).values[0]?.value, 1);
    } finally {
      await p.shutdown();
      await p.shutdown();
    }
  });

  test('limits as the Collector computes them', () => {
    const base = createDefaultConfig();
    assert.deepEqual(computeLimits({ ...base, limit_mib: 1000 }), { hardBytes: 1000 * MiB, softBytes: 800 * MiB });
    assert.deepEqual(computeLimits({ ...base, limit_mib: 1000, spike_limit_mib: 100 }), { hardBytes: 1000 * MiB, softBytes: 900 * MiB });
    assert.deepEqual(computeLimits({ ...base, limit_percentage: 50, spike_limit_percentage: 10 }, 1000), { hardBytes: 500, softBytes: 400 });
    assert.deepEqual(computeLimits({ ...base, limit_percentage: 50 }, 1000), { hardBytes: 500, softBytes: 400 });
  });

  test('config validation', () => {
    const errs = (raw: unknown) => {
      const r = checkComponent(factory, raw, ['processors', 'memory_limiter']);
      return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
    };
    assert.deepEqual(errs({}), ['processors::memory_limiter: limit_mib or limit_percentage must be greater than zero']);
    assert.deepEqual(errs({ limit_mib: 100, spike_limit_mib: 100 }), ['processors::memory_limiter: spike_limit_mib (100) must be smaller than limit_mib (100)']);
    assert.deepEqual(errs({ check_interval: '0s', limit_percentage: 80, spike_limit_percentage: 90 }), [
      'processors::memory_limiter: check_interval must be greater than zero',
      'processors::memory_limiter: spike_limit_percentage (90) must be smaller than limit_percentage (80)',
    ]);
    assert.deepEqual(errs({ limit_percentage: 101 }), ['processors::memory_limiter::limit_percentage: invalid value 101: too big: expected number to be <=100']);
    assert.deepEqual(errs({ check_interval: '1s', limit_mib: 4000, spike_limit_mib: 800 }), []);
  });

  test('end to end: OTLP/HTTP gets 503 with Retry-After, OTLP/gRPC gets UNAVAILABLE', async () => {
    const [http, grpcPort] = await freePorts(2);
    const svc = await startService({
      logger: captureLogger().logger,
      yaml: `
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:${http}"}
      grpc: {endpoint: "127.0.0.1:${grpcPort}"}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 2, spike_limit_mib: 1}
exporters: {debug: {}}
service:
  pipelines: {traces: {receivers: [otlp], processors: [memory_limiter], exporters: [debug]}}
  telemetry: {metrics: {level: none}}
`,
    });
    try {
      const body = encodeTraceRequestProto(oneSpan());
      const r = await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      assert.equal(r.status, 503);
      assert.ok(r.headers.get('retry-after'), 'Retry-After is set');

      const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
      try {
        const code = await new Promise<number>((resolve) => {
          client.makeUnaryRequest(
            '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
            (b: Uint8Array) => Buffer.from(b),
            (b: Buffer) => b,
            body,
            (err) => resolve(err?.code ?? 0),
          );
        });
        assert.equal(code, grpc.status.UNAVAILABLE);
      } finally {
        client.close();
      }
      const dropped = await svc.metrics.droppedSpans.get();
      assert.equal(dropped.values.find((v) => v.labels['reason'] === 'memory_limit')?.value, 2);
    } finally {
      await svc.shutdown();
    }
  });
});
