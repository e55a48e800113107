import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { freePorts } from '../testutil/ports.js';
import { readyMessage } from '../service/service.js';
import { allInOneConfigYaml } from './all-in-one.js';
import { parseArgs, UsageError } from './args.js';
import { runCli } from './cli.js';
import { spawnSkua } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'skua-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function cli(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env });
  return { code, out, err };
}

const valid = file(
  'valid.yaml',
  `receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters:
  otlphttp: {endpoint: "https://collector:4318", headers: {Authorization: "Bearer \${env:TOKEN}"}}
service:
  pipelines: {traces: {receivers: [otlp], exporters: [otlphttp]}}
`,
);

describe('cli arguments', () => {
  test('--config and --set in both spellings, repeatable, in order; commands; --help/--version', () => {
    const a = parseArgs(['--config=a.yaml', '--config', 'file:b.yaml', '--set', 'x::y=1', '--set=z=2', 'validate']);
    assert.equal(a.command, 'validate');
    assert.deepEqual(a.configs, ['a.yaml', 'file:b.yaml']);
    assert.deepEqual(a.sets, ['x::y=1', 'z=2']);
    assert.equal(parseArgs([]).command, 'run');
    assert.equal(parseArgs(['--config=/conf/collector.yaml']).command, 'run');
    assert.equal(parseArgs(['print-config', '--format', 'json']).format, 'json');
    assert.equal(parseArgs(['--version']).command, 'version');
    assert.equal(parseArgs(['validate', '-h']).command, 'help');
    assert.throws(() => parseArgs(['--conf', 'x']), UsageError);
    assert.throws(() => parseArgs(['--config']), /--config needs a value/);
    assert.throws(() => parseArgs(['run']), /unknown command "run"/);
  });
});

describe('skua validate / print-config / components', () => {
  test('validate: exit 0 and "configuration is valid"', async () => {
    const r = await cli(['validate', `--config=${valid}`], { TOKEN: 't' });
    assert.deepEqual([r.code, r.out, r.err], [0, 'configuration is valid\n', '']);
  });

  test('validate without --config checks the built-in all-in-one config', async () => {
    const r = await cli(['validate']);
    assert.deepEqual([r.code, r.out], [0, 'configuration is valid\n']);
  });

  test('validate: exit 1 listing every error with its path', async () => {
    const bad = file(
      'bad.yaml',
      `receivers: {otlp: {protocols: {http: {endpont: x}}}, zipkin: {}}
processors: {batch: {timeout: soon}}
exporters: {debug: {}}
service:
  pipelines: {traces: {receivers: [otlp, jaeger], processors: [batch], exporters: [debug]}}
`,
    );
    const r = await cli(['validate', '--config', bad]);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    const lines = r.err.trim().split('\n');
    assert.equal(lines[0], 'skua: invalid configuration (4 errors):');
    assert.match(lines[1]!, /^ {2}receivers::otlp::protocols::http::endpont: unknown key "endpont"; did you mean "endpoint"\?/);
    assert.equal(lines[2], '  receivers::zipkin: unknown receiver type "zipkin"; supported receiver types: otlp');
    assert.match(lines[3]!, /^ {2}processors::batch::timeout: invalid value "soon"/);
    assert.equal(lines[4], '  service::pipelines::traces: references receiver "jaeger" which is not configured');
  });

  test('merged configs and --set (later wins) are what validate and print-config see', async () => {
    const over = file('over.yaml', 'processors: {batch: {timeout: 1s}}\nservice: {pipelines: {traces: {processors: [batch]}}}\n');
    const r = await cli(['print-config', '--config', valid, '--config', over, '--set', 'processors::batch::send_batch_size=7', '--format', 'json'], { TOKEN: 'secret-token' });
    assert.equal(r.code, 0, r.err);
    const cfg = JSON.parse(r.out) as {
      processors: { batch: { timeout: string; send_batch_size: number } };
      exporters: { otlphttp: { headers: Record<string, string> } };
      service: { pipelines: { traces: { processors: string[] } } };
    };
    assert.equal(cfg.processors.batch.timeout, '1s');
    assert.equal(cfg.processors.batch.send_batch_size, 7);
    assert.deepEqual(cfg.service.pipelines.traces.processors, ['batch']);
    assert.equal(cfg.exporters.otlphttp.headers['Authorization'], '[REDACTED]');
    assert.ok(!r.out.includes('secret-token'));
    const raw = await cli(['print-config', '--config', valid, '--mode', 'unredacted'], { TOKEN: 'secret-token' });
    assert.ok(raw.out.includes('Bearer secret-token'));
  });

  test('print-config without --config prints the built-in config, expanded, as YAML', async () => {
    const r = await cli(['print-config'], { SKUA_LISTEN_HOST: '0.0.0.0' });
    assert.equal(r.code, 0);
    const cfg = parseYaml(r.out) as { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } }; service: { extensions: string[] } };
    assert.equal(cfg.receivers.otlp.protocols.grpc.endpoint, '0.0.0.0:4317');
    assert.deepEqual(cfg.service.extensions, ['jaeger_storage', 'jaeger_query', 'healthcheckv2']);
    const local = await cli(['print-config']);
    assert.match(local.out, /endpoint: localhost:4318/);
  });

  test('print-config of an invalid config fails like validate', async () => {
    const r = await cli(['print-config', '--set', 'processors::batch::timeout=never']);
    assert.equal(r.code, 1);
    assert.match(r.err, /processors::batch::timeout: invalid value "never"/);
  });

  test('components: types per kind with stability, and the storage backend types', async () => {
    const r = await cli(['components']);
    assert.equal(r.code, 0);
    const c = parseYaml(r.out) as Record<string, { name: string; stability: Record<string, string> }[]> & { buildinfo: { version: string } };
    assert.ok(c.buildinfo.version);
    assert.deepEqual(c['receivers']!.map((x) => x.name), ['otlp']);
    assert.deepEqual(c['processors']!.map((x) => [x.name, x.stability['traces']]), [['batch', 'beta'], ['memory_limiter', 'beta']]);
    assert.ok(c['exporters']!.some((x) => x.name === 'jaeger_storage_exporter'));
    assert.ok(c['extensions']!.some((x) => x.name === 'healthcheckv2' && x.stability['extension'] === 'beta'));
    assert.ok(c['storage']!.some((x) => x.name === 'memory'));
  });

  test('--version, --help, usage errors', async () => {
    assert.match((await cli(['--version'])).out, /^skua version \d+\.\d+\.\d+\n$/);
    const h = await cli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /skua validate/);
    const u = await cli(['--bogus']);
    assert.equal(u.code, 1);
    assert.match(u.err, /^skua: unknown flag "--bogus"/);
  });

  test('the built-in config binds every port to ${env:SKUA_LISTEN_HOST:-localhost}', () => {
    const refs = allInOneConfigYaml.match(/\$\{env:SKUA_LISTEN_HOST:-localhost\}(:\d+)?/g) ?? [];
    assert.deepEqual(refs.sort(), [
      '${env:SKUA_LISTEN_HOST:-localhost}',
      '${env:SKUA_LISTEN_HOST:-localhost}:13133',
      '${env:SKUA_LISTEN_HOST:-localhost}:16686',
      '${env:SKUA_LISTEN_HOST:-localhost}:4317',
      '${env:SKUA_LISTEN_HOST:-localhost}:4318',
    ]);
    assert.match(allInOneConfigYaml, /port: 8888/);
    assert.match(allInOneConfigYaml, /clickhouse:\s+embedded:\s+path: \$\{env:SKUA_DATA:-\.\/skua-data\}/);
  });
});

describe('skua (child process)', () => {
  test("runs with --config=FILE (the OpenTelemetry Operator's form) and exits 0 on SIGTERM", async (t) => {
    const [otlpHttp, otlpGrpc, query, health, metrics] = await freePorts(5);
    const cfg = file(
      'run.yaml',
      allInOneConfigYaml
        .replace('port: 8888', `port: ${metrics}`)
        .replace(':4317', `:${otlpGrpc}`)
        .replace(':4318', `:${otlpHttp}`)
        .replace(':16686', `:${query}`)
        .replace(':13133', `:${health}`),
    );
    const skua = spawnSkua([`--config=${cfg}`], { env: { SKUA_LISTEN_HOST: '127.0.0.1', SKUA_DATA: join(dir, 'skua-data') } });
    t.after(() => skua.kill());
    await skua.waitForLog(readyMessage);
    const h = await fetch(`http://127.0.0.1:${health}/status`);
    assert.equal(h.status, 200);
    const m = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    assert.match(m, /otelcol_process_uptime/);
    skua.proc.kill('SIGTERM');
    assert.equal(await skua.exited, 0);
    assert.ok(skua.lines.some((l) => l['msg'] === 'Shutdown complete.'));
  });

  test('a bad config exits 1 listing the errors; a taken port exits 1 naming it', async (t) => {
    const bad = spawnSkua(['--config', file('bad2.yaml', 'receivers: {nope: {}}\n')]);
    t.after(() => bad.kill());
    assert.equal(await bad.exited, 1);
    assert.match(bad.stderr.join(''), /receivers::nope: unknown receiver type "nope"/);

    const [port] = await freePorts(1);
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    t.after(() => blocker.close());
    const taken = spawnSkua(['--config', valid, '--set', `receivers::otlp::protocols::http::endpoint=127.0.0.1:${port}`, '--set', 'service::telemetry::metrics::level=none'], { env: { TOKEN: 'x' } });
    t.after(() => taken.kill());
    assert.equal(await taken.exited, 1);
    assert.ok(taken.lines.some((l) => l['msg'] === 'Failed to start' && String(l['err']).includes(`127.0.0.1:${port}`)), JSON.stringify(taken.lines));
  });
});
