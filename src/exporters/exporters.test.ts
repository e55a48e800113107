import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { PermanentError, RetryableError } from '../component/errors.js';
import type { Extension } from '../component/factory.js';
import { ComponentId } from '../component/id.js';
import type { StorageFactory, TraceStore } from '../storage/api.js';
import { factory as memoryFactory } from '../storage/memory/factory.js';
import { createFactory as storageExtensionFactory } from '../extensions/jaeger-storage/factory.js';
import { SelfMetrics } from '../telemetry/metrics.js';
import { freePorts } from '../testutil/ports.js';
import { bareHost, captureLogger, makeTraces, spanIdsOf, storedSpanIds, testSettings } from '../service/testing.js';
import { startService } from '../service/service.js';
import { isStorageExtension } from '../storage/extension.js';
import { factory as storageExporterFactory } from './jaeger-storage/factory.js';
import { createDefaultConfig as storageExporterDefaults } from './jaeger-storage/config.js';
import { factory as debugFactory } from './debug/factory.js';
import { factory as otlpHttpFactory } from './otlphttp/factory.js';
import { createDefaultConfig as otlpHttpDefaults, type Config as OtlpHttpConfig } from './otlphttp/config.js';
import { defaultRetryConfig } from './helper/retry.js';

/** A backend whose writes fail `failures` times, then succeed (a test double for a broken database). */
function flakyFactory(state: { failures: number; writes: number }): StorageFactory<Record<string, never>> {
  return {
    type: 'flaky',
    description: 'fails on demand',
    configSchema: z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
    createDefaultConfig: () => ({}),
    create(): TraceStore {
      const inner = memoryFactory.create({ max_traces: 100 }, { logger: captureLogger().logger, metrics: new SelfMetrics(), name: 'inner' });
      return Object.assign(Object.create(inner) as TraceStore, {
        async writeTraces(...args: Parameters<TraceStore['writeTraces']>) {
          state.writes++;
          if (state.failures > 0) {
            state.failures--;
            throw new RetryableError('database unavailable');
          }
          return inner.writeTraces(...args);
        },
      });
    },
  };
}

async function storageHost(backends: Record<string, unknown>, types: StorageFactory<any>[] = [memoryFactory]) {
  const f = storageExtensionFactory(types);
  const ext = await f.create(testSettings('extension', 'jaeger_storage'), { backends } as never);
  const host = bareHost(new Map<string, Extension>([['jaeger_storage', ext]]));
  await ext.start(host);
  return { host, ext };
}

describe('jaeger_storage_exporter', () => {
  test('writes through the named backend of the storage extension', async () => {
    const { host, ext } = await storageHost({ a: { memory: { max_traces: 10 } }, b: { memory: { max_traces: 10 } } });
    const metrics = new SelfMetrics();
    const exp = await storageExporterFactory.createTraces(testSettings('exporter', 'jaeger_storage_exporter', { metrics }), { ...storageExporterDefaults(), trace_storage: 'b' });
    await exp.start(host);
    const td = makeTraces(3);
    await exp.consumeTraces(td, { tenant: 't1' });
    assert.ok(isStorageExtension(ext));
    assert.deepEqual(await storedSpanIds(ext.getTraceStore('b'), 't1'), new Set(spanIdsOf(td)));
    assert.equal((await storedSpanIds(ext.getTraceStore('a'), 't1')).size, 0);
    assert.equal((await storedSpanIds(ext.getTraceStore('b'), '')).size, 0, 'tenants stay apart');
    assert.equal((await metrics.exporterSentSpans.get()).values[0]?.value, 3);
    await exp.shutdown();
    await assert.rejects(exp.consumeTraces(td, { tenant: '' }), RetryableError);
    await ext.shutdown();
  });

  test('an unknown trace_storage or a missing extension fails the start with the configured names', async () => {
    const { host, ext } = await storageHost({ mem: { memory: { max_traces: 10 } } });
    const exp = await storageExporterFactory.createTraces(testSettings('exporter', 'jaeger_storage_exporter'), { ...storageExporterDefaults(), trace_storage: 'nope' });
    await assert.rejects(exp.start(host), /unknown trace storage "nope"; configured backends: mem/);
    await assert.rejects(exp.start(bareHost()), /no jaeger_storage extension is configured/);
    await exp.shutdown();
    await ext.shutdown();
  });

  test('a failed write reaches the caller and is counted; retry_on_failure retries retryable errors', async () => {
    const state = { failures: 1, writes: 0 };
    const { host, ext } = await storageHost({ db: { flaky: {} } }, [flakyFactory(state)]);
    const metrics = new SelfMetrics();
    const noRetry = await storageExporterFactory.createTraces(testSettings('exporter', 'jaeger_storage_exporter', { metrics }), { ...storageExporterDefaults(), trace_storage: 'db' });
    await noRetry.start(host);
    await assert.rejects(noRetry.consumeTraces(makeTraces(2), { tenant: '' }), /database unavailable/);
    assert.equal((await metrics.exporterSendFailedSpans.get()).values[0]?.value, 2);
    assert.deepEqual((await metrics.droppedSpans.get()).values.map((v) => [v.labels['reason'], v.value]), [['export_failed', 2]]);
    await noRetry.consumeTraces(makeTraces(2), { tenant: '' });
    assert.equal((await metrics.exporterSentSpans.get()).values[0]?.value, 2);

    state.failures = 2;
    state.writes = 0;
    const retrying = await storageExporterFactory.createTraces(testSettings('exporter', 'jaeger_storage_exporter/r'), {
      ...storageExporterDefaults(),
      trace_storage: 'db',
      retry_on_failure: { ...defaultRetryConfig(), enabled: true, initial_interval: '5ms', max_interval: '10ms', max_elapsed_time: '5s' },
    });
    await retrying.start(host);
    await retrying.consumeTraces(makeTraces(1), { tenant: '' });
    assert.equal(state.writes, 3);
    await noRetry.shutdown();
    await retrying.shutdown();
    await ext.shutdown();
  });

  test('shutdown stops retrying and answers the caller with the last error', async () => {
    const state = { failures: 1_000, writes: 0 };
    const { host, ext } = await storageHost({ db: { flaky: {} } }, [flakyFactory(state)]);
    const exp = await storageExporterFactory.createTraces(testSettings('exporter', 'jaeger_storage_exporter'), {
      ...storageExporterDefaults(),
      trace_storage: 'db',
      retry_on_failure: { ...defaultRetryConfig(), enabled: true, initial_interval: '1h', max_interval: '1h', max_elapsed_time: '0s' },
    });
    await exp.start(host);
    const p = exp.consumeTraces(makeTraces(1), { tenant: '' });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await exp.shutdown();
    await assert.rejects(p, /database unavailable/);
    assert.ok(Date.now() - t0 < 1000);
    await ext.shutdown();
  });

  test('queue::enabled is refused at config time', () => {
    assert.deepEqual(storageExporterFactory.validate!({ ...storageExporterDefaults(), trace_storage: 'x', queue: { enabled: true } }).length, 1);
    assert.deepEqual(storageExporterFactory.validate!({ ...storageExporterDefaults(), trace_storage: 'x', queue: { enabled: false, num_consumers: 10 } }), []);
  });
});

describe('debug exporter', () => {
  for (const verbosity of ['basic', 'normal', 'detailed'] as const) {
    test(`logs what it receives (verbosity ${verbosity})`, async () => {
      const { logger, lines } = captureLogger();
      const metrics = new SelfMetrics();
      const exp = await debugFactory.createTraces(testSettings('exporter', 'debug', { logger, metrics }), { verbosity, sampling_initial: 100, sampling_thereafter: 1 });
      await exp.start(bareHost());
      const td = makeTraces(2, { service: 'dbg' });
      await exp.consumeTraces(td, { tenant: '' });
      await exp.shutdown();
      assert.deepEqual(lines[0], { level: 30, msg: 'Traces', 'resource spans': 1, spans: 2, time: lines[0]!['time'] });
      const spansLogged = lines.filter((l) => l['msg'] === 'Span');
      if (verbosity === 'basic') assert.equal(spansLogged.length, 0);
      else {
        assert.equal(spansLogged.length, 2);
        assert.equal(spansLogged[0]!['span_id'], spanIdsOf(td)[0]);
        if (verbosity === 'detailed') {
          assert.deepEqual(spansLogged[0]!['attributes'], { i: '0' });
          assert.deepEqual(spansLogged[0]!['resource'], { 'service.name': 'dbg' });
        } else assert.equal(spansLogged[0]!['service'], 'dbg');
      }
      assert.equal((await metrics.exporterSentSpans.get()).values[0]?.value, 2);
    });
  }

  test('samples its log messages as the Collector does', async () => {
    const { logger, lines } = captureLogger();
    const exp = await debugFactory.createTraces(testSettings('exporter', 'debug', { logger }), { verbosity: 'basic', sampling_initial: 2, sampling_thereafter: 3 });
    for (let i = 0; i < 8; i++) await exp.consumeTraces(makeTraces(1), { tenant: '' });
    // 2 initial, then every third of the remaining 6 (if the second did not roll over meanwhile)
    assert.ok(lines.length >= 4 && lines.length <= 8, `${lines.length}`);
  });
});

describe('otlphttp exporter', () => {
  function cfg(url: string, over: Partial<OtlpHttpConfig> = {}): OtlpHttpConfig {
    return { ...otlpHttpDefaults(), endpoint: url, retry_on_failure: { ...defaultRetryConfig(), enabled: false }, ...over };
  }

  test('forwards to another Skua (protobuf and JSON, gzip or not) and resolves once it has accepted', async () => {
    const [http] = await freePorts(1);
    const downstream = await startService({
      logger: captureLogger().logger,
      yaml: `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:${http}"}}}}
exporters: {jaeger_storage_exporter: {trace_storage: mem}}
extensions: {jaeger_storage: {backends: {mem: {memory: {max_traces: 1000}}}}}
service:
  extensions: [jaeger_storage]
  pipelines: {traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}}
  telemetry: {metrics: {level: none}}
`,
    });
    try {
      const ext = downstream.getExtension('jaeger_storage');
      assert.ok(isStorageExtension(ext));
      const sent = new Set<string>();
      for (const over of [{}, { encoding: 'json' as const }, { compression: 'none' as const }]) {
        const exp = await otlpHttpFactory.createTraces(testSettings('exporter', 'otlphttp'), cfg(`http://127.0.0.1:${http}`, over));
        await exp.start(bareHost());
        const td = makeTraces(4, { resources: 2 });
        await exp.consumeTraces(td, { tenant: '' });
        for (const id of spanIdsOf(td)) sent.add(id);
        await exp.shutdown();
      }
      assert.deepEqual(await storedSpanIds(ext.getTraceStore('mem')), sent);
    } finally {
      await downstream.shutdown();
    }
  });

  async function statusServer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
    let n = 0;
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => handler(req, res, ++n));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => srv.close(() => r())), calls: () => n };
  }

  test('maps HTTP statuses as OTLP says: 503/429 retryable with Retry-After, 400 permanent', async () => {
    const srv = await statusServer((req, res) => {
      const code = Number(req.url!.split('/')[1]);
      res.writeHead(code, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"code":14,"message":"busy"}');
    });
    try {
      for (const [code, type] of [
        [503, RetryableError],
        [429, RetryableError],
        [400, PermanentError],
        [404, PermanentError],
      ] as const) {
        const exp = await otlpHttpFactory.createTraces(testSettings('exporter', 'otlphttp'), cfg(srv.url, { traces_endpoint: `${srv.url}/${code}` }));
        await exp.start(bareHost());
        await assert.rejects(exp.consumeTraces(makeTraces(1), { tenant: '' }), (err: unknown) => {
          assert.ok(err instanceof type, `${code}`);
          assert.match((err as Error).message, new RegExp(`HTTP ${code}: \\{"code":14,"message":"busy"\\}`));
          if (err instanceof RetryableError) assert.equal(err.retryAfterMs, 7000);
          return true;
        });
        await exp.shutdown();
      }
    } finally {
      await srv.close();
    }
  });

  test('retries retryable answers and connection errors when retry_on_failure is enabled', async () => {
    const srv = await statusServer((_req, res, n) => {
      if (n < 3) res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
    try {
      const exp = await otlpHttpFactory.createTraces(
        testSettings('exporter', 'otlphttp'),
        cfg(srv.url, { retry_on_failure: { ...defaultRetryConfig(), enabled: true, initial_interval: '5ms', max_interval: '10ms' } }),
      );
      await exp.start(bareHost());
      await exp.consumeTraces(makeTraces(1), { tenant: '' });
      assert.equal(srv.calls(), 3);
      await exp.shutdown();
    } finally {
      await srv.close();
    }
    const [closed] = await freePorts(1);
    const exp = await otlpHttpFactory.createTraces(testSettings('exporter', 'otlphttp'), cfg(`http://127.0.0.1:${closed}`));
    await exp.start(bareHost());
    await assert.rejects(exp.consumeTraces(makeTraces(1), { tenant: '' }), (err: unknown) => err instanceof RetryableError && /ECONNREFUSED/.test((err as Error).message));
    await exp.shutdown();
  });

  test('config: an endpoint is required; URLs are checked', () => {
    assert.deepEqual(otlpHttpFactory.validate!(otlpHttpDefaults()), ['endpoint (or traces_endpoint) is required, e.g. endpoint: http://collector:4318']);
    const r = otlpHttpFactory.configSchema.safeParse({ ...otlpHttpDefaults(), endpoint: 'collector:4318' });
    assert.equal(r.success, false);
    assert.equal(ComponentId.parse('otlphttp/up').type, 'otlphttp');
  });
});
