import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Component, CreateSettings, Host } from '../../component/component.js';
import type { Extension } from '../../component/factory.js';
import { ComponentId } from '../../component/id.js';
import { checkComponent } from '../../service/config.js';
import { createFactory as createStorageFactory } from '../jaeger-storage/factory.js';
import { factory as memoryFactory } from '../../storage/memory/factory.js';
import type { StorageExtension } from '../../storage/extension.js';
import { baseTime, makeResourceSpans, makeSpan, newTraceId, traces } from '../../storage/conformance.js';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { nopLogger } from '../../telemetry/logger.js';
import { freePort } from '../../testutil/ports.js';
import { factory } from './factory.js';
import type { Config } from './config.js';
import { defaultUiDir } from './extension.js';

const storageFactory = createStorageFactory([memoryFactory]);

function settings(type: string, logger = nopLogger()): CreateSettings {
  return {
    id: ComponentId.of(type),
    kind: 'extension',
    telemetry: { logger, metrics: new SelfMetrics() },
    buildInfo: { command: 'skua', description: 'test', version: '0.0.0' },
  };
}

function check(raw: unknown) {
  return checkComponent(factory, raw, ['extensions', 'jaeger_query']);
}

function config(raw: unknown): Config {
  const r = check(raw);
  if (!r.ok) assert.fail(JSON.stringify(r.errors));
  return r.value as Config;
}

/** A started jaeger_storage extension (memory backends) and a Host that offers it. */
async function storageHost(backends: string[]): Promise<{ host: Host; storage: StorageExtension; fatal: Error[] }> {
  const r = checkComponent(storageFactory, { backends: Object.fromEntries(backends.map((b) => [b, { memory: { max_traces: 100 } }])) }, ['extensions', 'jaeger_storage']);
  assert.ok(r.ok);
  const storage = (await storageFactory.create(settings('jaeger_storage'), r.value as Parameters<typeof storageFactory.create>[1])) as unknown as StorageExtension;
  const extensions = new Map<string, Component>([['jaeger_storage', storage]]);
  const fatal: Error[] = [];
  const host: Host = {
    getExtension: (id) => extensions.get(id.toString()),
    getExtensions: () => extensions,
    reportFatalError: (e) => fatal.push(e),
  };
  await storage.start(host);
  return { host, storage, fatal };
}

function logCapture() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('jaeger_query config', () => {
  test('defaults and Jaeger v2 configs load', () => {
    const def = factory.createDefaultConfig();
    assert.equal(def.base_path, '/');
    assert.equal(def.http.endpoint, 'localhost:16686');
    assert.equal(def.max_clock_skew_adjust, '0s');
    // cmd/jaeger/internal/all-in-one.yaml
    assert.equal(config({ storage: { traces: 'some_storage' } }).storage.traces, 'some_storage');
    // Jaeger's config-ui example and the rest of QueryOptions.
    const full = config({
      storage: { traces: 'some_store', traces_archive: 'another_store', metrics: 'prom' },
      base_path: '/jaeger',
      ui: { config_file: './cmd/jaeger/config-ui.json', assets_path: '/ui', log_access: true },
      bearer_token_propagation: false,
      multi_tenancy: { enabled: true, header: 'x-tenant', tenants: ['a', 'b'] },
      max_clock_skew_adjust: '30s',
      max_trace_size: 100000,
      enable_tracing: false,
      http: { endpoint: '0.0.0.0:16686', cors: { allowed_origins: ['*'], allowed_headers: ['x-tenant'], max_age: 7200 }, idle_timeout: '60s', response_headers: { 'x-a': 'b' } },
      grpc: { endpoint: '0.0.0.0:16685', max_recv_msg_size_mib: 16, keepalive: { server_parameters: { time: '2h' } } },
    });
    assert.equal(full.storage.traces_archive, 'another_store');
    assert.equal(full.http.endpoint, '0.0.0.0:16686');
    // The early Jaeger v2 spelling.
    assert.ok(check({ trace_storage: 'some_storage', trace_storage_archive: 'x' }).ok);
    assert.ok(check({ storage: { traces: 's' }, max_clock_skew_adjust: 0 }).ok);
  });

  test('unknown keys and bad values are errors naming the path', () => {
    const cases: [unknown, RegExp][] = [
      [{ storage: { traces: 's' }, nope: 1 }, /extensions::jaeger_query::nope.*unknown key/],
      [{ storage: { traces: 's', archive: 'x' } }, /extensions::jaeger_query::storage::archive/],
      [{ storage: { traces: 's' }, http: { endpoint: 'localhost:16686', bogus: true } }, /http::bogus/],
      [{ storage: { traces: 's' }, http: { endpoint: 'nowhere' } }, /http::endpoint/],
      [{ storage: { traces: 's' }, max_clock_skew_adjust: '5 minutes' }, /max_clock_skew_adjust/],
      [{}, /storage::traces is required/],
      [{ storage: { traces: 's' }, base_path: 'jaeger' }, /base_path "jaeger" must start with "\/"/],
      [{ storage: { traces: 's' }, base_path: '/a/../b' }, /base_path/],
      [{ storage: { traces: 's' }, base_path: '/a//b' }, /base_path/],
      [{ storage: { traces: 's' }, http: { endpoint: 'localhost:1', tls: { cert_file: 'x' } } }, /http::tls is not supported/],
      [{ storage: { traces: 's' }, http: { endpoint: 'localhost:1', auth: { authenticator: 'x' } } }, /http::auth is not supported/],
    ];
    for (const [raw, re] of cases) {
      const r = check(raw);
      assert.equal(r.ok, false, JSON.stringify(raw));
      if (!r.ok) assert.ok(r.errors.some((e) => re.test(`${e.path}: ${e.message}`)), `${JSON.stringify(raw)} → ${JSON.stringify(r.errors)}`);
    }
  });

  test('the UI is looked up in <package root>/ui/dist', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    assert.equal(defaultUiDir(), join(root, 'ui', 'dist'));
  });
});

describe('jaeger_query extension', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skua-query-ext-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('lifecycle: serves the API over the named backend; shutdown is idempotent', async () => {
    const { host, storage } = await storageHost(['some_storage']);
    const port = await freePort();
    const ext = await factory.create(settings('jaeger_query'), config({ storage: { traces: 'some_storage' }, http: { endpoint: `127.0.0.1:${port}` } }));
    try {
      await ext.start(host);
      const traceId = newTraceId();
      await storage.getTraceStore('some_storage').writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId, start: baseTime() })])), { tenant: '' });
      const services = await fetch(`http://127.0.0.1:${port}/api/services`);
      assert.equal(services.status, 200);
      assert.deepEqual(((await services.json()) as { data: string[] }).data, ['svc']);
      const v3 = await fetch(`http://127.0.0.1:${port}/api/v3/traces/${traceId}`);
      assert.equal(v3.status, 200);
    } finally {
      await ext.shutdown();
      await ext.shutdown();
      await storage.shutdown();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/services`), 'the port is closed after shutdown');
  });

  test('shutdown without start', async () => {
    const ext = await factory.create(settings('jaeger_query'), config({ storage: { traces: 's' } }));
    await ext.shutdown();
  });

  test('start fails clearly: port in use, unknown backend, unreadable UI config', async () => {
    const { host, storage } = await storageHost(['some_storage']);
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const starts: [Record<string, unknown>, RegExp][] = [
      [{ storage: { traces: 'some_storage' }, http: { endpoint: `127.0.0.1:${port}` } }, new RegExp(`cannot listen on 127.0.0.1:${port}`)],
      [{ storage: { traces: 'missing' }, http: { endpoint: '127.0.0.1:0' } }, /unknown trace storage "missing".*some_storage/],
      [{ storage: { traces: 'some_storage' }, http: { endpoint: '127.0.0.1:0' }, ui: { config_file: join(dir, 'nope.json') } }, /config_file/],
      [{ storage: { traces: 'some_storage' }, http: { endpoint: '127.0.0.1:0' }, ui: { config_file: join(dir, 'ui-config.js') } }, /only JSON/],
    ];
    try {
      for (const [raw, re] of starts) {
        const ext: Extension = await factory.create(settings('jaeger_query'), config(raw));
        await assert.rejects(ext.start(host), re, JSON.stringify(raw));
        await ext.shutdown();
      }
    } finally {
      blocker.close();
      await storage.shutdown();
    }
  });

  test('base_path, archive fallback, UI config, response headers, tenancy; unsupported settings are logged', async () => {
    const { host, storage } = await storageHost(['primary', 'archive']);
    const uiDir = join(dir, 'ui');
    await mkdir(uiDir, { recursive: true });
    await writeFile(join(uiDir, 'index.html'), '<html><head></head><body>skua</body></html>');
    await writeFile(join(dir, 'ui-config.json'), JSON.stringify({ dependencies: { menuEnabled: true } }));
    const port = await freePort();
    const { logger, lines } = logCapture();
    const ext = await factory.create(
      settings('jaeger_query', logger),
      config({
        storage: { traces: 'primary', traces_archive: 'archive', metrics: 'prom' },
        base_path: '/jaeger/',
        ui: { assets_path: uiDir, config_file: join(dir, 'ui-config.json'), log_access: true },
        multi_tenancy: { enabled: true, tenants: ['t1'] },
        max_clock_skew_adjust: '1s',
        http: { endpoint: `127.0.0.1:${port}`, response_headers: { 'x-served-by': 'skua' } },
        grpc: { endpoint: '127.0.0.1:16685' },
      }),
    );
    try {
      await ext.start(host);
      const archived = newTraceId();
      await storage.getTraceStore('archive').writeTraces(traces(makeResourceSpans({ service: 'old' }, [makeSpan({ traceId: archived, start: baseTime() })])), { tenant: 't1' });
      const h = { 'x-tenant': 't1' };
      const r = await fetch(`http://127.0.0.1:${port}/jaeger/api/traces/${archived}`, { headers: h });
      assert.equal(r.status, 200, 'found in the archive');
      assert.equal(r.headers.get('x-served-by'), 'skua');
      assert.equal((await fetch(`http://127.0.0.1:${port}/jaeger/api/v3/traces/${archived}`, { headers: h })).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/jaeger/api/traces/${archived}`)).status, 401, 'tenant header required');
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/services`, { headers: h })).status, 404);
      const page = await (await fetch(`http://127.0.0.1:${port}/jaeger/search`)).text();
      assert.match(page, /window.__SKUA_BASE_PATH__="\/jaeger\/";window.__SKUA_UI_CONFIG__=\{"dependencies":\{"menuEnabled":true\}\}/);
      const warn = lines.find((l) => l.level === 40 && /accepted for compatibility/.test(l.msg));
      assert.ok(warn, 'a warning lists the settings without effect');
      assert.match(warn.msg, /grpc/);
      assert.match(warn.msg, /storage::metrics/);
      assert.ok(lines.some((l) => /Query server started/.test(l.msg)));
      assert.ok(lines.some((l) => /UI access/.test(l.msg)), 'log_access logs static requests');
    } finally {
      await ext.shutdown();
      await storage.shutdown();
    }
  });
});
