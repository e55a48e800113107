/**
 * Lifecycle tests generated for every registered component factory (as the Collector generates
 * them): create → start → shutdown, shutdown twice, and shutdown without start. Every factory needs
 * an entry in `testConfigs` (free ports, required settings): a new component without one fails here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Component } from './component/component.js';
import type { AnyFactory, Extension } from './component/factory.js';
import { allFactories, components } from './components.js';
import { checkComponent } from './service/config.js';
import { bareHost, captureLogger, makeTraces, testSettings } from './service/testing.js';
import { SinkConsumer } from './testutil/sink.js';
import { freePorts } from './testutil/ports.js';
import { storageFactories } from './storage/factories.js';
import { factory as storageExtension } from './extensions/jaeger-storage/factory.js';
import { SelfMetrics } from './telemetry/metrics.js';

type Ports = () => Promise<number>;

const testConfigs: Record<string, (port: Ports) => Promise<unknown>> = {
  'receiver/otlp': async (p) => ({ protocols: { grpc: { endpoint: `127.0.0.1:${await p()}` }, http: { endpoint: `127.0.0.1:${await p()}` } } }),
  'processor/batch': async () => ({ timeout: '1ms' }),
  'processor/memory_limiter': async () => ({ check_interval: '1s', limit_mib: 1024 * 1024 }),
  'exporter/jaeger_storage_exporter': async () => ({ trace_storage: 'mem' }),
  'exporter/debug': async () => ({}),
  'exporter/otlphttp': async (p) => ({ endpoint: `http://127.0.0.1:${await p()}` }),
  'extension/jaeger_storage': async () => ({ backends: { mem: { memory: { max_traces: 10 } } } }),
  'extension/jaeger_query': async (p) => ({ storage: { traces: 'mem' }, http: { endpoint: `127.0.0.1:${await p()}` } }),
  'extension/healthcheckv2': async (p) => ({ use_v2: true, http: { endpoint: `127.0.0.1:${await p()}` }, grpc: { endpoint: `127.0.0.1:${await p()}` } }),
  'extension/health_check': async (p) => ({ endpoint: `127.0.0.1:${await p()}` }),
};

/**
 * Settings for each storage backend type's lifecycle test. `start: false` types are only created
 * and closed here (their own suite starts them: clickhouse loads chDB, ~250 MB).
 */
const storageTestConfigs: Record<string, { config: unknown; start: boolean }> = {
  memory: { config: { max_traces: 10 }, start: true },
  clickhouse: { config: { embedded: { path: '/nonexistent/skua-lifecycle-never-started' } }, start: false },
};

async function portSource(): Promise<Ports> {
  const pool = await freePorts(6);
  return async () => {
    const p = pool.shift();
    if (p === undefined) throw new Error('out of test ports');
    return p;
  };
}

/** A host with a started jaeger_storage extension (backend "mem"), as components find it in a service. */
async function hostWithStorage() {
  const ext = await storageExtension.create(testSettings('extension', 'jaeger_storage'), { backends: { mem: { memory: { max_traces: 100 } } } });
  const host = bareHost(new Map<string, Extension>([['jaeger_storage', ext]]));
  await ext.start(host);
  return { host, close: () => ext.shutdown() };
}

async function create(f: AnyFactory, cfg: unknown, next: SinkConsumer): Promise<Component> {
  const settings = testSettings(f.kind, f.type, { logger: captureLogger().logger, metrics: new SelfMetrics() });
  switch (f.kind) {
    case 'receiver':
      return f.createTraces(settings, cfg, next);
    case 'processor':
      return f.createTraces(settings, cfg, next);
    case 'exporter':
      return f.createTraces(settings, cfg);
    case 'extension':
      return f.create(settings, cfg);
  }
}

async function checkedConfig(f: AnyFactory): Promise<unknown> {
  const make = testConfigs[`${f.kind}/${f.type}`];
  assert.ok(make, `add a lifecycle test config for ${f.kind} "${f.type}" to src/components.test.ts`);
  const raw = await make(await portSource());
  const r = checkComponent(f, raw, [f.kind, f.type]);
  assert.ok(r.ok, `test config of ${f.kind} "${f.type}" is invalid: ${JSON.stringify(!r.ok && r.errors)}`);
  return r.value;
}

describe('component lifecycle', () => {
  test('the registry has every kind and no duplicate types', () => {
    const f = components();
    assert.ok(f.receivers.has('otlp'));
    assert.ok(f.processors.has('batch') && f.processors.has('memory_limiter'));
    assert.ok(f.exporters.has('jaeger_storage_exporter') && f.exporters.has('debug'));
    for (const t of ['jaeger_storage', 'jaeger_query', 'healthcheckv2', 'health_check']) assert.ok(f.extensions.has(t), t);
    assert.equal(allFactories.length, f.receivers.size + f.processors.size + f.exporters.size + f.extensions.size);
  });

  for (const f of allFactories) {
    describe(`${f.kind} ${f.type}`, () => {
      test('createDefaultConfig returns a fresh value each time (defaults are never shared)', () => {
        const a = f.createDefaultConfig();
        const b = f.createDefaultConfig();
        assert.deepEqual(a, b);
        if (a !== null && typeof a === 'object') assert.notEqual(a, b);
      });

      test('create → start → shutdown, shutdown twice', async () => {
        const cfg = await checkedConfig(f);
        const { host, close } = await hostWithStorage();
        const sink = new SinkConsumer();
        try {
          const c = await create(f, cfg, sink);
          await c.start(host);
          if (f.kind === 'processor') {
            await (c as unknown as SinkConsumer).consumeTraces(makeTraces(2), { tenant: '' });
            assert.equal(sink.spanCount, 2);
          }
          if (f.type === 'jaeger_storage_exporter' || f.type === 'debug') {
            await (c as unknown as SinkConsumer).consumeTraces(makeTraces(2), { tenant: '' });
          }
          await c.shutdown();
          await c.shutdown();
          assert.deepEqual(host.fatal, []);
        } finally {
          await close();
        }
      });

      test('shutdown without start', async () => {
        const cfg = await checkedConfig(f);
        const c = await create(f, cfg, new SinkConsumer());
        await c.shutdown();
        await c.shutdown();
      });
    });
  }

  for (const sf of storageFactories) {
    test(`storage backend ${sf.type}: create → start → close, close twice, close without start`, async () => {
      const entry = storageTestConfigs[sf.type];
      assert.ok(entry, `add a lifecycle test config for storage type "${sf.type}" to src/components.test.ts`);
      const parsed = sf.configSchema.parse({ ...(sf.createDefaultConfig() as object), ...(entry.config as object) });
      const telemetry = { logger: captureLogger().logger, metrics: new SelfMetrics(), name: 'test' };
      if (entry.start) {
        const a = sf.create(parsed, telemetry);
        await a.start();
        await a.close();
        await a.close();
      }
      const b = sf.create(parsed, telemetry);
      await b.close();
      await b.close();
    });
  }
});
