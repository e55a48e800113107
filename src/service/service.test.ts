import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { allFactories } from '../components.js';
import { defaultContext } from '../component/consumer.js';
import { Traces } from '../pdata/traces.js';
import { ConfigErrors } from '../confmap/errors.js';
import { freePorts } from '../testutil/ports.js';
import { makeFactories } from './factories.js';
import { readyMessage, startService, Service } from './service.js';
import { loadConfig } from './config.js';
import { captureLogger, Recorder } from './testing.js';
import { newSpanId, newTraceId, str } from '../storage/conformance.js';
import type { ResourceSpans, Span } from '../pdata/model.js';

function spans(n: number, service = 'svc'): Traces {
  const traceId = newTraceId();
  const list: Span[] = [];
  for (let i = 0; i < n; i++) {
    list.push({
      traceId,
      spanId: newSpanId(),
      traceState: '',
      parentSpanId: '',
      flags: 0,
      name: `op${i}`,
      kind: 1,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_100_000_000n,
      attributes: [],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: 0, message: '' },
    });
  }
  const rs: ResourceSpans = {
    resource: { attributes: [str('service.name', service)], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeSpans: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: list }],
  };
  return Traces.fromResourceSpans([rs]);
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function withRecorder(rec: Recorder) {
  return makeFactories([...allFactories, ...rec.factories()]);
}

const noMetrics = 'service:\n  telemetry:\n    metrics: {level: none}\n';

describe('service', () => {
  test('builds the graph: receivers fan out, exporters are shared, processors are per pipeline; start downstream first, stop upstream first', async () => {
    const rec = new Recorder();
    const { logger, lines } = captureLogger();
    const svc = await startService({
      factories: withRecorder(rec),
      logger,
      configs: [`yaml:${noMetrics}`],
      yaml: `
receivers: {rec: {}, rec/2: {}}
processors: {rec: {}, rec/p: {}}
exporters: {rec: {}, rec/b: {}}
extensions: {rec/e1: {}, rec/e2: {}}
service:
  extensions: [rec/e1, rec/e2]
  pipelines:
    traces: {receivers: [rec], processors: [rec, rec/p], exporters: [rec]}
    traces/b: {receivers: [rec, rec/2], processors: [rec], exporters: [rec, rec/b]}
`,
    });
    assert.deepEqual(rec.events, [
      'create extension/rec/e1',
      'create extension/rec/e2',
      'create exporter/rec',
      'create exporter/rec/b',
      'create processor/rec/p@traces',
      'create processor/rec@traces',
      'create processor/rec@traces/b',
      'create receiver/rec',
      'create receiver/rec/2',
      'start extension/rec/e1',
      'start extension/rec/e2',
      'start exporter/rec',
      'start exporter/rec/b',
      'start processor/rec/p@traces',
      'start processor/rec@traces',
      'start processor/rec@traces/b',
      'start receiver/rec',
      'start receiver/rec/2',
    ]);
    assert.ok(lines.some((l) => l['msg'] === readyMessage));

    // receiver "rec" feeds both pipelines; the shared exporter "rec" sees the data twice (once per pipeline).
    rec.events.length = 0;
    await rec.receivers.get('rec')!.next.consumeTraces(spans(3), defaultContext);
    assert.deepEqual(rec.events.sort(), ['consume processor/rec/p@traces', 'consume processor/rec@traces', 'consume processor/rec@traces/b'].sort());
    assert.equal(rec.exported.get('rec')!.length, 2);
    assert.equal(rec.exported.get('rec/b')!.length, 1);
    await rec.receivers.get('rec/2')!.next.consumeTraces(spans(1), defaultContext);
    assert.equal(rec.exported.get('rec')!.length, 3);
    assert.equal(rec.exported.get('rec/b')!.length, 2);

    rec.events.length = 0;
    await svc.shutdown();
    await svc.shutdown(); // idempotent
    assert.deepEqual(rec.events, [
      'shutdown receiver/rec/2',
      'shutdown receiver/rec',
      'shutdown processor/rec@traces/b',
      'shutdown processor/rec@traces',
      'shutdown processor/rec/p@traces',
      'shutdown exporter/rec/b',
      'shutdown exporter/rec',
      'shutdown extension/rec/e2',
      'shutdown extension/rec/e1',
    ]);
  });

  test('components configured but not used are not created (and their ports stay closed)', async () => {
    const rec = new Recorder();
    const [used, unusedRx, unusedExt] = await freePorts(3);
    const svc = await startService({
      factories: withRecorder(rec),
      logger: captureLogger().logger,
      configs: [`yaml:${noMetrics}`],
      yaml: `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${used}"}}}
  otlp/unused: {protocols: {http: {endpoint: "127.0.0.1:${unusedRx}"}}}
  rec/unused: {}
processors: {rec/unused: {}, batch: {}}
exporters: {rec: {}, rec/unused: {}}
extensions:
  health_check: {endpoint: "127.0.0.1:${unusedExt}"}
  rec/unused: {}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [rec]}
`,
    });
    try {
      assert.deepEqual(rec.events, ['create exporter/rec', 'start exporter/rec']);
      assert.equal(await portOpen(used!), true);
      assert.equal(await portOpen(unusedRx!), false);
      assert.equal(await portOpen(unusedExt!), false);
    } finally {
      await svc.shutdown();
    }
    assert.equal(await portOpen(used!), false, 'the receiver closed its port');
  });

  test('storage extensions start before the extensions that read them, whatever the listed order', async () => {
    const [q] = await freePorts(1);
    const { logger, lines } = captureLogger();
    const svc = await startService({
      logger,
      configs: [`yaml:${noMetrics}`],
      yaml: `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {jaeger_storage_exporter: {trace_storage: mem}}
extensions:
  jaeger_storage: {backends: {mem: {memory: {max_traces: 10}}}}
  jaeger_query: {storage: {traces: mem}, http: {endpoint: "127.0.0.1:${q}"}}
service:
  extensions: [jaeger_query, jaeger_storage]
  pipelines: {traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}}
`,
    });
    await svc.shutdown();
    const names = lines.filter((l) => l['kind'] === 'extension').map((l) => l['name']);
    assert.equal(names[0], 'jaeger_storage', JSON.stringify(names));
  });

  test('a component that fails to start: start rejects and everything created is shut down', async () => {
    const rec = new Recorder();
    const factories = withRecorder(rec);
    await assert.rejects(
      startService({
        factories,
        logger: captureLogger().logger,
        configs: [`yaml:${noMetrics}`],
        yaml: `
receivers: {rec: {}}
processors: {rec: {fail_start: true}}
exporters: {rec: {}}
extensions: {rec: {}}
service:
  extensions: [rec]
  pipelines: {traces: {receivers: [rec], processors: [rec], exporters: [rec]}}
`,
      }),
      /cannot start processor "rec": processor\/rec@traces refuses to start/,
    );
    assert.deepEqual(rec.events.filter((e) => !e.startsWith('create')), [
      'start extension/rec',
      'start exporter/rec',
      'shutdown receiver/rec',
      'shutdown processor/rec@traces',
      'shutdown exporter/rec',
      'shutdown extension/rec',
    ]);
  });

  test('a config error rejects with every error', async () => {
    await assert.rejects(startService({ yaml: 'receivers: {nope: {}}\n', logger: captureLogger().logger }), (err: unknown) => {
      assert.ok(err instanceof ConfigErrors);
      assert.equal(err.errors.length, 2);
      return true;
    });
  });

  test('health: 503 while starting and stopping, 200 while every pipeline runs', async (t) => {
    const rec = new Recorder();
    const [health] = await freePorts(1);
    const cfg = loadConfig({
      configs: [
        `yaml:${noMetrics}`,
        `yaml:
receivers: {rec: {}}
exporters: {rec: {hold_start: true, hold_shutdown: true}}
extensions: {healthcheckv2: {use_v2: true, http: {endpoint: "127.0.0.1:${health}"}}}
service:
  extensions: [healthcheckv2]
  pipelines: {traces: {receivers: [rec], exporters: [rec]}}
`,
      ],
      env: {},
      factories: withRecorder(rec),
    });
    const svc = await Service.create(cfg, { logger: captureLogger().logger });
    t.after(async () => {
      rec.release('start exporter/rec');
      rec.release('shutdown exporter/rec');
      await svc.shutdown();
    });
    const get = async (q = '') => {
      const r = await fetch(`http://127.0.0.1:${health}/status${q}`);
      return { code: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const started = svc.start();
    await rec.waitHeld('start exporter/rec');
    const starting = await get('?verbose');
    assert.equal(starting.code, 503);
    assert.equal(starting.body['status'], 'StatusStarting');
    assert.equal(starting.body['healthy'], false);
    rec.release('start exporter/rec');
    await started;
    const ok = await get();
    assert.equal(ok.code, 200);
    assert.equal(ok.body['status'], 'StatusOK');
    const pipe = await get('?pipeline=traces&verbose');
    assert.equal(pipe.code, 200);
    assert.deepEqual(Object.keys(pipe.body['components'] as object), ['receiver:rec', 'exporter:rec']);
    assert.equal((await get('?pipeline=nope')).code, 404);

    const stopping = svc.shutdown();
    await rec.waitHeld('shutdown exporter/rec');
    const st = await get();
    assert.equal(st.code, 503);
    assert.equal(st.body['status'], 'StatusStopping');
    rec.release('shutdown exporter/rec');
    await stopping;
  });

  test('a fatal error reported by a component resolves `fatal` and makes the service unhealthy', async () => {
    const rec = new Recorder();
    const [health] = await freePorts(1);
    const svc = await startService({
      factories: withRecorder(rec),
      logger: captureLogger().logger,
      configs: [`yaml:${noMetrics}`],
      yaml: `
receivers: {rec: {}}
exporters: {rec: {}}
extensions: {health_check: {endpoint: "127.0.0.1:${health}", path: /health}}
service:
  extensions: [health_check]
  pipelines: {traces: {receivers: [rec], exporters: [rec]}}
`,
    });
    try {
      const ok = await fetch(`http://127.0.0.1:${health}/health`);
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { status: string }).status, 'Server available');
      rec.hosts.get('exporter/rec')!.reportFatalError(new Error('disk gone'));
      assert.equal((await svc.fatal).message, 'disk gone');
      const bad = await fetch(`http://127.0.0.1:${health}/health`);
      assert.equal(bad.status, 503);
      assert.equal(((await bad.json()) as { status: string }).status, 'Server not available');
    } finally {
      await svc.shutdown();
    }
  });

  test('self-metrics are served with the Collector names', async () => {
    const [metricsPort, http] = await freePorts(2);
    const svc = await startService({
      logger: captureLogger().logger,
      yaml: `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:${http}"}}}}
processors: {batch: {timeout: 10ms}}
exporters: {debug: {}}
service:
  pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [debug]}}
  telemetry:
    metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${metricsPort}}}}}]}
`,
    });
    try {
      assert.deepEqual(svc.metricsEndpoints, [{ host: '127.0.0.1', port: metricsPort }]);
      const body = JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'm' } }] },
            scopeSpans: [{ spans: [{ traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }],
          },
        ],
      });
      const r = await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(r.status, 200);
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      for (const line of [
        'otelcol_receiver_accepted_spans{receiver="otlp",transport="http"} 1',
        'otelcol_processor_incoming_items{processor="batch",otel_signal="traces"} 1',
        'otelcol_processor_outgoing_items{processor="batch",otel_signal="traces"} 1',
        'otelcol_exporter_sent_spans{exporter="debug"} 1',
      ]) {
        assert.ok(text.includes(line), `missing ${line}`);
      }
      for (const name of ['otelcol_receiver_refused_spans', 'otelcol_exporter_send_failed_spans', 'otelcol_process_memory_rss', 'otelcol_process_uptime', 'skua_dropped_spans']) {
        assert.match(text, new RegExp(`# TYPE ${name} `));
      }
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
    } finally {
      await svc.shutdown();
    }
    assert.equal(await portOpen(metricsPort!), false);
  });

  test('a port in use fails the start with a clear error', async () => {
    const [port] = await freePorts(1);
    const first = await startService({
      logger: captureLogger().logger,
      yaml: `receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}\nexporters: {debug: {}}\nservice:\n  pipelines: {traces: {receivers: [otlp], exporters: [debug]}}\n  telemetry: {metrics: {address: "127.0.0.1:${port}"}}\n`,
    });
    try {
      await assert.rejects(
        startService({
          logger: captureLogger().logger,
          yaml: `receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}\nexporters: {debug: {}}\nservice:\n  pipelines: {traces: {receivers: [otlp], exporters: [debug]}}\n  telemetry: {metrics: {address: "127.0.0.1:${port}"}}\n`,
        }),
        /service::telemetry::metrics: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
      );
    } finally {
      await first.shutdown();
    }
  });
});
