import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { StorageFactory, TraceStore } from '../../storage/api.js';
import { factory as memoryFactory } from '../../storage/memory/factory.js';
import { storageFactories } from '../../storage/factories.js';
import { checkComponent } from '../../service/config.js';
import { bareHost, makeTraces, spanIdsOf, storedSpanIds, testSettings } from '../../service/testing.js';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { createFactory, factory } from './factory.js';
import { JaegerStorageExtension } from './extension.js';

/** A backend type that records its lifecycle (and can fail to start). */
function recordingType(events: string[], failStart = ''): StorageFactory<{ label: string }> {
  return {
    type: 'rec',
    description: 'records',
    configSchema: z.strictObject({ label: z.string() }),
    createDefaultConfig: () => ({ label: 'default' }),
    create(cfg, telemetry): TraceStore {
      events.push(`create ${telemetry.name} ${cfg.label}`);
      const inner = memoryFactory.create({ max_traces: 10 }, { ...telemetry });
      return Object.assign(Object.create(inner) as TraceStore, {
        async start() {
          if (telemetry.name === failStart) throw new Error('connection refused');
          events.push(`start ${telemetry.name}`);
        },
        async close() {
          events.push(`close ${telemetry.name}`);
        },
      });
    },
  };
}

describe('jaeger_storage extension', () => {
  test('one store per backend, with its type defaults; started with the extension, closed at shutdown', async () => {
    const events: string[] = [];
    const f = createFactory([memoryFactory, recordingType(events)]);
    const r = checkComponent(f, { backends: { a: { rec: { label: 'x' } }, b: { rec: null }, m: { memory: null } } }, ['extensions', 'jaeger_storage']);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(r.value, { backends: { a: { rec: { label: 'x' } }, b: { rec: { label: 'default' } }, m: { memory: { max_traces: 100000 } } } });
    const ext = (await f.create(testSettings('extension', 'jaeger_storage', { metrics: new SelfMetrics() }), r.value)) as JaegerStorageExtension;
    assert.deepEqual(events, ['create a x', 'create b default']);
    await ext.start(bareHost());
    assert.deepEqual(ext.backendNames(), ['a', 'b', 'm']);
    const td = makeTraces(2);
    await ext.getTraceStore('m').writeTraces(td, { tenant: '' });
    assert.deepEqual(await storedSpanIds(ext.getTraceStore('m')), new Set(spanIdsOf(td)));
    assert.throws(() => ext.getTraceStore('zzz'), /unknown trace storage "zzz"; configured backends: a, b, m \(extensions::jaeger_storage::backends\)/);
    await ext.shutdown();
    await ext.shutdown();
    assert.deepEqual(events.slice(2), ['start a', 'start b', 'close a', 'close b']);
  });

  test('a backend that cannot start fails the extension start, naming the backend', async () => {
    const events: string[] = [];
    const f = createFactory([recordingType(events, 'b')]);
    const ext = await f.create(testSettings('extension', 'jaeger_storage'), { backends: { a: { rec: { label: '' } }, b: { rec: { label: '' } } } });
    await assert.rejects(ext.start(bareHost()), /cannot start storage backend "b": connection refused/);
    await ext.shutdown();
    assert.deepEqual(events, ['create a ', 'create b ', 'start a', 'close a', 'close b']);
  });

  test('the registered factory knows the registry types', () => {
    for (const t of storageFactories) assert.ok(factory.description.includes(t.type));
    const r = checkComponent(factory, { backends: {} }, ['extensions', 'jaeger_storage']);
    assert.deepEqual(r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`), [
      'extensions::jaeger_storage::backends: at least one backend is required, e.g. backends: {some_storage: {memory: {max_traces: 100000}}}',
    ]);
    const typo = checkComponent(factory, { backends: { s: { memory: { max_trace: 1 } } } }, ['extensions', 'jaeger_storage']);
    assert.deepEqual(typo.ok ? [] : typo.errors.map((e) => `${e.path}: ${e.message}`), [
      'extensions::jaeger_storage::backends::s::memory::max_trace: unknown key "max_trace"; did you mean "max_traces"? (valid keys: max_traces)',
    ]);
  });
});
