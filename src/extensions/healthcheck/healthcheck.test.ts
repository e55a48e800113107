import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { freePorts } from '../../testutil/ports.js';
import { bareHost, captureLogger, testSettings } from '../../service/testing.js';
import { startService } from '../../service/service.js';
import { checkComponent } from '../../service/config.js';
import { factory, legacyFactory } from './factory.js';
import { healthServiceDefinition } from './healthcheck.js';

async function grpcCheck(port: number, service: string): Promise<{ status?: number; code?: number }> {
  const Client = grpc.makeGenericClientConstructor(healthServiceDefinition, 'Health');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: number }) => void): void;
  };
  try {
    return await new Promise((resolve) => client.Check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res!.status })));
  } finally {
    client.close();
  }
}

describe('healthcheckv2 and health_check', () => {
  test("Jaeger's healthcheckv2 (use_v2, http, grpc:) over a running service: status, pipelines, verbose, config, gRPC", async () => {
    const [http, grpcPort, otlp] = await freePorts(3);
    const svc = await startService({
      logger: captureLogger().logger,
      yaml: `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:${otlp}"}}}}
exporters: {debug: {}, otlphttp: {endpoint: "http://u:hunter2@127.0.0.1:1"}}
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: "127.0.0.1:${http}"
      config: {enabled: true, path: /config}
    grpc:
      endpoint: "127.0.0.1:${grpcPort}"
service:
  extensions: [healthcheckv2]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
    traces/fwd: {receivers: [otlp], exporters: [otlphttp]}
  telemetry: {metrics: {level: none}}
`,
    });
    try {
      const base = `http://127.0.0.1:${http}`;
      const st = await fetch(`${base}/status`);
      assert.equal(st.status, 200);
      const body = (await st.json()) as Record<string, unknown>;
      assert.equal(body['healthy'], true);
      assert.equal(body['status'], 'StatusOK');
      assert.ok(typeof body['start_time'] === 'string' && typeof body['status_time'] === 'string');
      assert.equal(body['components'], undefined);
      assert.equal((await fetch(`${base}/`)).status, 200);

      const verbose = (await (await fetch(`${base}/status?verbose`)).json()) as { components: Record<string, { components?: Record<string, unknown> }> };
      assert.deepEqual(Object.keys(verbose.components), ['extensions', 'pipeline:traces', 'pipeline:traces/fwd']);
      assert.deepEqual(Object.keys(verbose.components['pipeline:traces/fwd']!.components!), ['receiver:otlp', 'exporter:otlphttp']);

      const pipe = await fetch(`${base}/status?pipeline=traces/fwd`);
      assert.equal(pipe.status, 200);
      assert.equal((await fetch(`${base}/status?pipeline=metrics`)).status, 404);
      assert.equal((await fetch(`${base}/nope`)).status, 404);

      const conf = (await (await fetch(`${base}/config`)).json()) as { exporters: { otlphttp: { endpoint: string } } };
      assert.equal(conf.exporters.otlphttp.endpoint, 'http://u:[REDACTED]@127.0.0.1:1', 'secrets are redacted');

      assert.deepEqual(await grpcCheck(grpcPort!, ''), { status: 1 });
      assert.deepEqual(await grpcCheck(grpcPort!, 'traces'), { status: 1 });
      assert.deepEqual(await grpcCheck(grpcPort!, 'nope'), { code: grpc.status.NOT_FOUND });
    } finally {
      await svc.shutdown();
    }
  });

  test('legacy mode (health_check, or healthcheckv2 without use_v2): the Collector v1 answer', async () => {
    const [a, b] = await freePorts(2);
    const svc = await startService({
      logger: captureLogger().logger,
      yaml: `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {debug: {}}
extensions:
  health_check: {endpoint: "127.0.0.1:${a}", path: /health/status}
  healthcheckv2: {endpoint: "127.0.0.1:${b}", response_body: {healthy: "I'm OK", unhealthy: "down"}}
service:
  extensions: [health_check, healthcheckv2]
  pipelines: {traces: {receivers: [otlp], exporters: [debug]}}
  telemetry: {metrics: {level: none}}
`,
    });
    try {
      const r = await fetch(`http://127.0.0.1:${a}/health/status`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as Record<string, string>;
      assert.equal(body['status'], 'Server available');
      assert.match(body['upSince']!, /^\d{4}-\d\d-\d\dT/);
      assert.match(body['uptime']!, /^\d+\.\d+s$/);
      assert.equal((await fetch(`http://127.0.0.1:${a}/`)).status, 404);
      const v = await fetch(`http://127.0.0.1:${b}/`);
      assert.equal(v.status, 200);
      assert.equal(await v.text(), "I'm OK");
    } finally {
      await svc.shutdown();
    }
  });

  test('under a host without status: healthy between start and shutdown', async () => {
    const [p] = await freePorts(1);
    const ext = await legacyFactory.create(testSettings('extension', 'health_check'), { endpoint: `127.0.0.1:${p}`, path: '/' });
    await ext.start(bareHost());
    assert.equal((await fetch(`http://127.0.0.1:${p}/`)).status, 200);
    await ext.shutdown();
    await ext.shutdown();
  });

  test('config: defaults, Jaeger spelling, validation', () => {
    const check = (raw: unknown) => checkComponent(factory, raw, ['extensions', 'healthcheckv2']);
    const jaeger = check({ use_v2: true, http: { endpoint: '0.0.0.0:13133' }, grpc: null });
    assert.ok(jaeger.ok);
    const v = jaeger.value as { http: { endpoint: string; status: { path: string } }; grpc: { endpoint: string } };
    assert.equal(v.http.endpoint, '0.0.0.0:13133');
    assert.equal(v.http.status.path, '/status');
    assert.equal(v.grpc.endpoint, 'localhost:13132');
    const httpOnly = check({ use_v2: true, http: null });
    assert.ok(httpOnly.ok && (httpOnly.value as { grpc?: unknown }).grpc === undefined);
    const withHealth = check({ use_v2: true, http: {}, component_health: { include_permanent_errors: true, include_recoverable_errors: true, recovery_duration: '1m' } });
    assert.ok(withHealth.ok);
    const none = check({ use_v2: true });
    assert.deepEqual(none.ok ? [] : none.errors.map((e) => e.message), ['with use_v2: true, at least one of http or grpc must be configured']);
    const badPath = checkComponent(legacyFactory, { path: 'health' }, ['extensions', 'health_check']);
    assert.deepEqual(badPath.ok ? [] : badPath.errors.map((e) => `${e.path}: ${e.message}`), ['extensions::health_check::path: invalid value "health": path must start with /']);
  });
});
