import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { components } from '../components.js';
import { storageTypes } from '../storage/factories.js';
import { ConfigErrors, formatConfigError } from '../confmap/errors.js';
import { effectiveConfig, loadConfig, type ServiceConfig } from './config.js';

const factories = components();
const jaegerAllInOne = fileURLToPath(new URL('./testdata/jaeger-all-in-one.yaml', import.meta.url));

interface Opts {
  sets?: string[];
  env?: Record<string, string>;
  /** More YAML sources merged over the first, as further --config flags. */
  more?: string[];
}

function load(yaml: string, opts: Opts = {}): ServiceConfig {
  const configs = [yaml, ...(opts.more ?? [])].map((y) => `yaml:${y}`);
  return loadConfig({ configs, sets: opts.sets ?? [], env: opts.env ?? {}, factories });
}

function errorsOf(yaml: string, opts: Opts = {}): string[] {
  try {
    load(yaml, opts);
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map(formatConfigError);
    throw err;
  }
  assert.fail('expected configuration errors');
}

const minimal = `
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0"}
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
`;

describe('service config', () => {
  test('a minimal config loads, with defaults applied', () => {
    const cfg = load(minimal);
    assert.equal(cfg.pipelines.length, 1);
    assert.deepEqual(cfg.components.exporter.get('debug')!.config, { verbosity: 'basic', sampling_initial: 2, sampling_thereafter: 1 });
    assert.deepEqual(cfg.telemetry.metricsEndpoints, [{ host: 'localhost', port: 8888 }]);
    assert.equal(cfg.telemetry.logLevel, 'info');
  });

  test('an unknown key is reported at its YAML path', () => {
    const errs = errorsOf(minimal.replace('http: {endpoint: "127.0.0.1:0"}', 'http: {endpont: "127.0.0.1:0"}'));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^receivers::otlp::protocols::http::endpont: unknown key "endpont"; did you mean "endpoint"\?/);
  });

  test('an unknown component type lists the supported types of its kind', () => {
    const errs = errorsOf(`${minimal}\nprocessors:\n  attributes/x: {}\n`);
    assert.deepEqual(errs, ['processors::attributes/x: unknown processor type "attributes"; supported processor types: batch, memory_limiter']);
    const rx = errorsOf(minimal.replace('receivers:\n  otlp:', 'receivers:\n  jaeger: {}\n  otlp:'));
    assert.match(rx[0]!, /^receivers::jaeger: unknown receiver type "jaeger"; supported receiver types: otlp$/);
    const ext = errorsOf(`${minimal}\nextensions:\n  zpages: {}\n`);
    assert.match(ext[0]!, /^extensions::zpages: unknown extension type "zpages"; supported extension types: health_check, healthcheckv2, jaeger_query, jaeger_storage$/);
  });

  test('references to components that are not configured are errors', () => {
    const errs = errorsOf(`
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {debug: {}}
extensions: {health_check: {endpoint: "127.0.0.1:0"}}
service:
  extensions: [health_check, zpages, health_check]
  pipelines:
    traces: {receivers: [otlp, zipkin], processors: [batch], exporters: [debug, otlp]}
`);
    assert.deepEqual(errs, [
      'service::extensions: references extension "zpages" which is not configured',
      'service::extensions: references extension "health_check" multiple times',
      'service::pipelines::traces: references receiver "zipkin" which is not configured',
      'service::pipelines::traces: references processor "batch" which is not configured',
      'service::pipelines::traces: references exporter "otlp" which is not configured',
    ]);
  });

  test('invalid ids, empty pipelines, unsupported signals', () => {
    const errs = errorsOf(`
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}, "otlp/": {}, "9x": {}}
exporters: {debug: {}}
service:
  pipelines:
    traces: {receivers: [], exporters: [debug]}
    traces/b: {receivers: [otlp]}
    metrics: {receivers: [otlp], exporters: [debug]}
    "traces/": {receivers: [otlp], exporters: [debug]}
    traces/c: {receivers: otlp, exporters: [debug], procesors: []}
`);
    assert.deepEqual(errs, [
      'receivers::otlp/: invalid component id "otlp/": the name after "/" must be non-empty and contain no whitespace',
      'receivers::9x: invalid component id "9x": the type must start with a letter and contain only letters, digits and _',
      'service::pipelines::traces: must have at least one receiver',
      'service::pipelines::traces/b: must have at least one exporter',
      'service::pipelines::metrics: pipeline type "metrics" is not supported: Skua handles traces only',
      'service::pipelines::traces/: invalid pipeline id "traces/": the name after "/" must be non-empty and contain no whitespace',
      'service::pipelines::traces/c::procesors: unknown key "procesors"; did you mean "processors"? (valid keys: exporters, processors, receivers)',
      'service::pipelines::traces/c::receivers: expected a list of component ids, e.g. [otlp]',
    ]);
  });

  test('no pipelines, no service, unknown sections', () => {
    assert.deepEqual(errorsOf('receivers: {}\n'), ['service: missing: the service section (with at least one pipeline) is required']);
    assert.deepEqual(errorsOf('service: {extensions: []}\nrecievers: {}\n'), [
      'recievers: unknown key "recievers"; did you mean "receivers"? (valid keys: connectors, exporters, extensions, processors, receivers, service)',
      'service::pipelines: service must have at least one pipeline',
    ]);
    assert.deepEqual(errorsOf(`${minimal}\nconnectors: {forward: {}}\n`), ['connectors: connectors are not supported by Skua']);
  });

  test('the whole file is checked and every error reported', () => {
    const errs = errorsOf(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "nope", max_recv_msg_size_mib: -1}
      http: {endpont: x}
processors:
  batch: {timeout: soon, send_batch_size: 10, send_batch_max_size: 5}
  memory_limiter: {check_interval: 1s}
exporters:
  jaeger_storage_exporter: {}
  debug: {verbosity: loud}
extensions:
  jaeger_storage: {backends: {a: {memory: {max_traces: 0}}, b: {badger: {}}, c: {}}}
  healthcheckv2: {use_v2: true, http: {endpoint: ":x"}}
service:
  extensions: [jaeger_storage, healthcheckv2]
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [jaeger_storage_exporter, debug]}
  telemetry:
    logs: {level: verbose}
    metrics: {readers: [{periodic: {}}]}
`);
    assert.deepEqual(errs, [
      'receivers::otlp::protocols::grpc::endpoint: invalid value "nope": expected host:port (e.g. "localhost:4318" or "0.0.0.0:4318")',
      'receivers::otlp::protocols::grpc::max_recv_msg_size_mib: invalid value -1: too small: expected number to be >0',
      'receivers::otlp::protocols::http::endpont: unknown key "endpont"; did you mean "endpoint"? (valid keys: cors, endpoint, max_request_body_size, traces_url_path)',
      'processors::batch::timeout: invalid value "soon": expected a duration such as "200ms", "5s" or "1m30s"',
      'processors::memory_limiter: limit_mib or limit_percentage must be greater than zero',
      'exporters::jaeger_storage_exporter::trace_storage: invalid value "": required: the name of a backend under extensions::jaeger_storage::backends',
      'exporters::debug::verbosity: invalid value "loud"; expected one of: basic, normal, detailed',
      'extensions::jaeger_storage::backends::a::memory::max_traces: invalid value 0: too small: expected number to be >0',
      `extensions::jaeger_storage::backends::b::badger: unknown storage type "badger"; supported storage types: ${storageTypes().join(', ')}`,
      `extensions::jaeger_storage::backends::c: a backend needs exactly one storage type; supported storage types: ${storageTypes().join(', ')}`,
      'extensions::healthcheckv2::http::endpoint: invalid value ":x": expected host:port (e.g. "localhost:4318" or "0.0.0.0:4318")',
      'service::telemetry::logs::level: invalid value "verbose"; expected one of: debug, info, warn, error, dpanic, panic, fatal',
    ]);
  });

  test('batch: send_batch_max_size below send_batch_size', () => {
    const errs = errorsOf(`${minimal}\nprocessors: {batch: {send_batch_size: 10, send_batch_max_size: 5}}\n`);
    assert.deepEqual(errs, ['processors::batch: send_batch_max_size (5) must be greater than or equal to send_batch_size (10)']);
  });

  test('jaeger_storage: more than one type in a backend', () => {
    const errs = errorsOf(minimal, { more: ['extensions: {jaeger_storage: {backends: {x: {memory: {}, clickhouse: {}}}}}\nservice: {extensions: [jaeger_storage]}\n'] });
    assert.deepEqual(errs, ['extensions::jaeger_storage::backends::x: a backend needs exactly one storage type, found 2 (memory, clickhouse)']);
  });

  test('storage names must exist', () => {
    const errs = errorsOf(`
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {jaeger_storage_exporter: {trace_storage: nope}, jaeger_storage_exporter/2: {trace_storage: mem}}
extensions:
  jaeger_storage: {backends: {mem: {memory: {max_traces: 10}}}}
  jaeger_query: {storage: {traces: other}, http: {endpoint: "127.0.0.1:0"}}
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {receivers: [otlp], exporters: [jaeger_storage_exporter, jaeger_storage_exporter/2]}
`);
    assert.deepEqual(errs, [
      'exporters::jaeger_storage_exporter::trace_storage: unknown storage "nope" (configured backends: mem under extensions::jaeger_storage::backends)',
      'extensions::jaeger_query::storage::traces: unknown storage "other" (configured backends: mem under extensions::jaeger_storage::backends)',
    ]);
    const noExt = errorsOf(`
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {jaeger_storage_exporter: {trace_storage: mem}}
service: {pipelines: {traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}}}
`);
    assert.deepEqual(noExt, ['exporters::jaeger_storage_exporter::trace_storage: refers to storage "mem" but no jaeger_storage extension is listed in service::extensions']);
  });

  test('env expansion feeds typed values; --set overrides', () => {
    const cfg = load(
      minimal,
      {
        more: [
          `
processors:
  batch: {send_batch_size: "\${env:SIZE}", timeout: "\${env:TIMEOUT:-1s}"}
service:
  pipelines:
    traces: {processors: [batch]}
  telemetry:
    metrics: {readers: [{pull: {exporter: {prometheus: {host: "\${env:HOST}", port: "\${env:PORT}"}}}}]}
`,
        ],
        env: { SIZE: '100', HOST: '127.0.0.1', PORT: '9999' },
        sets: ['processors::batch::send_batch_max_size=200'],
      },
    );
    assert.deepEqual(cfg.components.processor.get('batch')!.config, {
      send_batch_size: 100,
      send_batch_max_size: 200,
      timeout: '1s',
      max_pending_spans: 0,
      max_concurrent_exports: 2,
    });
    assert.deepEqual(cfg.telemetry.metricsEndpoints, [{ host: '127.0.0.1', port: 9999 }]);
  });

  test('telemetry: address (Jaeger/older Collector), level none, resource, ignored settings', () => {
    const a = load(minimal, { more: ['service:\n  telemetry:\n    resource: {service.name: jaeger}\n    metrics: {level: detailed, address: "0.0.0.0:9000"}\n    logs: {level: DEBUG, development: true}\n'] });
    assert.deepEqual(a.telemetry.metricsEndpoints, [{ host: '0.0.0.0', port: 9000 }]);
    assert.equal(a.telemetry.logLevel, 'debug');
    assert.deepEqual(a.telemetry.resource, { 'service.name': 'jaeger' });
    assert.ok(a.warnings.some((w) => w.includes('service::telemetry::logs::development')));
    const none = load(minimal, { more: ['service:\n  telemetry:\n    metrics: {level: none}\n'] });
    assert.deepEqual(none.telemetry.metricsEndpoints, []);
  });

  test('unused components are checked too', () => {
    const errs = errorsOf(`${minimal}\nprocessors: {batch/unused: {timeout: never}}\n`);
    assert.deepEqual(errs, ['processors::batch/unused::timeout: invalid value "never": expected a duration such as "200ms", "5s" or "1m30s"']);
  });

  test("Jaeger v2's all-in-one config loads unchanged (healthcheckv2 written Jaeger's way)", () => {
    const cfg = loadConfig({ configs: [jaegerAllInOne], env: {}, factories });
    assert.deepEqual(cfg.extensions.map(String), ['jaeger_storage', 'jaeger_query', 'healthcheckv2']);
    const hc = cfg.components.extension.get('healthcheckv2')!.config as { use_v2: boolean; http?: { endpoint: string }; grpc?: { endpoint: string } };
    assert.equal(hc.use_v2, true);
    assert.equal(hc.http?.endpoint, 'localhost:13133');
    assert.equal(hc.grpc?.endpoint, 'localhost:13132', '`grpc:` with no value enables gRPC health with its defaults');
    assert.deepEqual(cfg.telemetry.metricsEndpoints, [{ host: 'localhost', port: 8888 }]);
    const withHost = loadConfig({ configs: [jaegerAllInOne], env: { JAEGER_LISTEN_HOST: '0.0.0.0' }, factories });
    const otlp = withHost.components.receiver.get('otlp')!.config as { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } };
    assert.equal(otlp.protocols.grpc.endpoint, '0.0.0.0:4317');
    assert.equal(otlp.protocols.http.endpoint, '0.0.0.0:4318');
    const eff = effectiveConfig(cfg) as { service: { pipelines: Record<string, unknown> } };
    assert.deepEqual(eff.service.pipelines, { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } });
  });
});
