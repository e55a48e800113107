import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { z } from 'zod';
import { expandConfig } from './expand.js';
import { mergeConfigs, mergeOverDefaults, splitDelimitedKeys } from './merge.js';
import { isSecretKey, redact, REDACTED } from './redact.js';
import { resolveConfig, setFlagToYaml } from './resolver.js';
import { checkSchema, duration, endpoint, parseDuration, parseEndpoint } from './schema.js';
import { formatConfigError, type ConfigError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'skua-confmap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function expand(v: unknown, env: Record<string, string> = {}) {
  return expandConfig(v, { env, cwd: dir });
}

describe('expansion', () => {
  test('${env:VAR} and ${VAR}, inside strings and as whole values', () => {
    const r = expand({ a: '${env:HOST}:4317', b: '${HOST}', c: 'x-${HOST}-${env:PORT}' }, { HOST: 'h1', PORT: '9' });
    assert.deepEqual(r.value, { a: 'h1:4317', b: 'h1', c: 'x-h1-9' });
    assert.deepEqual(r.errors, []);
  });

  test('${env:VAR:-default}: the default only when VAR is unset', () => {
    const r = expand({ unset: '${env:NOPE:-localhost}:1', empty: '[${env:EMPTY:-dflt}]', set: '${env:HOST:-dflt}', shell: '${NOPE:-sh}' }, { EMPTY: '', HOST: 'h' });
    assert.deepEqual(r.value, { unset: 'localhost:1', empty: '[]', set: 'h', shell: 'sh' });
  });

  test('an unset variable without default expands to "" with a warning', () => {
    const r = expand({ a: 'x${env:NOPE}y' });
    assert.deepEqual(r.value, { a: 'xy' });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /a: environment variable "NOPE" is not set/);
  });

  test('a whole-value reference keeps the YAML type of what it expands to', () => {
    const r = expand({ port: '${env:PORT}', on: '${env:ON}', f: '${env:F}', s: '${env:S}', list: '${env:L}', inner: 'p${env:PORT}' }, { PORT: '8888', ON: 'true', F: '1.5', S: 'hello', L: '[a, b]' });
    assert.deepEqual(r.value, { port: 8888, on: true, f: 1.5, s: 'hello', list: ['a', 'b'], inner: 'p8888' });
    assert.equal(r.originals.get('port'), '8888');
    assert.equal(r.originals.has('s'), false);
  });

  test('$$ is a literal $; a lone $ stays', () => {
    const r = expand({ a: '$${env:HOST}', b: 'cost: $$5', c: 'a$b', d: '$$$${HOST}', e: '$${HOST}${HOST}' }, { HOST: 'h' });
    assert.deepEqual(r.value, { a: '${env:HOST}', b: 'cost: $5', c: 'a$b', d: '$${HOST}', e: '${HOST}h' });
  });

  test('${file:PATH} reads a file (whole value typed, trailing newline dropped inside strings)', () => {
    const p = file('secret.txt', 's3cret\n');
    const n = file('num.txt', '42\n');
    const r = expand({ pw: '${file:' + p + '}', n: '${file:' + n + '}', url: 'http://u:${file:' + p + '}@h', rel: '${file:secret.txt}' });
    assert.deepEqual(r.value, { pw: 's3cret', n: 42, url: 'http://u:s3cret@h', rel: 's3cret' });
  });

  test('nested references resolve inside-out', () => {
    const r = expand({ a: '${env:A:-${env:B}}', b: '${env:A:-${env:NOPE:-z}}' }, { B: 'b' });
    assert.deepEqual(r.value, { a: 'b', b: 'z' });
  });

  test('values are not expanded twice', () => {
    const r = expand({ a: '${env:A}' }, { A: '${env:B}', B: 'no' });
    assert.deepEqual(r.value, { a: '${env:B}' });
  });

  test('bad references are errors at their path', () => {
    const r = expand({ x: { y: ['ok', '${vault:secret}'] }, z: '${env:1BAD}', f: '${file:/nonexistent/skua}' });
    const msgs = r.errors.map(formatConfigError);
    assert.equal(msgs.length, 3);
    assert.match(msgs[0]!, /^x::y::1: unsupported scheme "vault" in "\$\{vault:secret\}"; supported schemes: env, file, yaml$/);
    assert.match(msgs[1]!, /^z: invalid environment variable name "1BAD"/);
    assert.match(msgs[2]!, /^f: cannot read file "\/nonexistent\/skua"/);
  });

  test('an unterminated ${ stays literal', () => {
    assert.deepEqual(expand({ a: 'x${env:A' }, { A: '1' }).value, { a: 'x${env:A' });
  });
});

describe('merging', () => {
  test('maps merge, lists and scalars are replaced, later wins', () => {
    const a = { r: { otlp: { protocols: { grpc: { endpoint: 'a:1' }, http: { endpoint: 'a:2' } } } }, l: [1, 2, 3], s: 'a' };
    const b = { r: { otlp: { protocols: { grpc: { endpoint: 'b:1' } } } }, l: [9], s: null };
    assert.deepEqual(mergeConfigs(a, b), { r: { otlp: { protocols: { grpc: { endpoint: 'b:1' }, http: { endpoint: 'a:2' } } } }, l: [9], s: null });
    assert.deepEqual(a.l, [1, 2, 3], 'inputs are not modified');
  });

  test('over defaults, an empty (null) value keeps the default', () => {
    assert.deepEqual(mergeOverDefaults({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: null }), { a: 1, b: { c: 2, d: 3, e: 4 } });
    assert.deepEqual(mergeOverDefaults({ a: 1 }, null), { a: 1 });
  });

  test('keys with :: become nested maps', () => {
    assert.deepEqual(splitDelimitedKeys({ 'a::b::c': 1, a: { b: { d: 2 } }, 'x.y': 3 }), { a: { b: { c: 1, d: 2 } }, 'x.y': 3 });
  });
});

describe('resolver', () => {
  const base = file(
    'base.yaml',
    `receivers:
  otlp:
    protocols:
      grpc: {endpoint: "\${env:HOST:-localhost}:4317"}
      http: {endpoint: "localhost:4318"}
processors:
  batch: {timeout: 1s}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
`,
  );
  const over = file('over.yaml', `processors:\n  batch: {send_batch_size: 10}\nservice:\n  pipelines:\n    traces: {processors: []}\n`);

  test('file:, plain paths, env: and yaml: sources merge in order; --set applies last', () => {
    const r = resolveConfig({
      configs: [`file:${base}`, over, 'env:EXTRA', 'yaml:processors::batch::timeout: 5s'],
      sets: ['receivers::otlp::protocols::http::endpoint=0.0.0.0:9999', 'processors.batch.send_batch_max_size=20', 'service::pipelines::traces::exporters=[debug, otlphttp]'],
      env: { HOST: '10.0.0.1', EXTRA: 'exporters: {debug: {verbosity: detailed}}' },
      cwd: dir,
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.conf, {
      receivers: { otlp: { protocols: { grpc: { endpoint: '10.0.0.1:4317' }, http: { endpoint: '0.0.0.0:9999' } } } },
      processors: { batch: { timeout: '5s', send_batch_size: 10, send_batch_max_size: 20 } },
      exporters: { debug: { verbosity: 'detailed' } },
      service: { pipelines: { traces: { receivers: ['otlp'], processors: [], exporters: ['debug', 'otlphttp'] } } },
    });
  });

  test('relative paths resolve against cwd', () => {
    const r = resolveConfig({ configs: ['base.yaml'], env: {}, cwd: dir });
    assert.deepEqual(r.errors, []);
    assert.equal((r.conf['processors'] as { batch: { timeout: string } }).batch.timeout, '1s');
  });

  test('--set is the Collector flag: yaml:KEY: VALUE, dots become ::', () => {
    assert.equal(setFlagToYaml('processors.batch.timeout=2s'), 'yaml:processors::batch::timeout: 2s');
    assert.equal(setFlagToYaml(' a::b = c=d '), 'yaml:a::b: c=d');
    const bad = setFlagToYaml('novalue');
    assert.equal(typeof bad, 'object');
    assert.match(formatConfigError(bad as never), /missing equal sign/);
  });

  test('source errors are reported, all of them', () => {
    const broken = file('broken.yaml', 'a: [1, 2\nb: c\n');
    const dup = file('dup.yaml', 'a: 1\na: 2\n');
    const list = file('list.yaml', '- a\n- b\n');
    const r = resolveConfig({ configs: ['/nonexistent/x.yaml', broken, dup, list, 'env:UNSET_VAR', 'http://example.com/c.yaml'], sets: ['x'], env: {}, cwd: dir });
    const msgs = r.errors.map(formatConfigError);
    assert.equal(msgs.length, 7, msgs.join('\n'));
    assert.match(msgs[0]!, /--set "x": missing equal sign/);
    assert.match(msgs[1]!, /cannot read config file "\/nonexistent\/x.yaml"/);
    assert.match(msgs[2]!, /config file ".*broken.yaml": invalid YAML \(line \d+, column \d+\)/);
    assert.match(msgs[3]!, /dup.yaml": invalid YAML.*unique/i);
    assert.match(msgs[4]!, /the top level must be a map/);
    assert.match(msgs[5]!, /environment variable "UNSET_VAR" is not set/);
    assert.match(msgs[6]!, /unsupported scheme "http"/);
  });

  test('an empty file is an empty config', () => {
    const empty = file('empty.yaml', '# nothing\n');
    assert.deepEqual(resolveConfig({ configs: [empty], env: {}, cwd: dir }).conf, {});
  });
});

describe('schema checking', () => {
  const schema = z.strictObject({
    endpoint: endpoint(),
    password: z.string(),
    timeout: duration(),
    nested: z.strictObject({ size: z.number().int().positive(), mode: z.enum(['a', 'b']) }),
    either: z.union([z.string(), z.number()]).optional(),
  });
  const good = { endpoint: 'localhost:1', password: 'x', timeout: '1s', nested: { size: 1, mode: 'a' } };

  test('every problem, each at its path', () => {
    const r = checkSchema(schema, { endpont: 'x', endpoint: 'nohostport', password: 5, timeout: '5 sec', nested: { size: -1, mode: 'c', extra: 1 }, either: true }, ['receivers', 'x']);
    assert.equal(r.ok, false);
    const msgs = (r as { errors: ConfigError[] }).errors.map(formatConfigError).sort();
    assert.deepEqual(msgs, [
      'receivers::x::either: invalid value true: expected string or number',
      'receivers::x::endpoint: invalid value "nohostport": expected host:port (e.g. "localhost:4318" or "0.0.0.0:4318")',
      'receivers::x::endpont: unknown key "endpont"; did you mean "endpoint"? (valid keys: either, endpoint, nested, password, timeout)',
      'receivers::x::nested::extra: unknown key "extra" (valid keys: mode, size)',
      'receivers::x::nested::mode: invalid value "c"; expected one of: a, b',
      'receivers::x::nested::size: invalid value -1: too small: expected number to be >0',
      'receivers::x::password: invalid value 5: expected string, got number',
      'receivers::x::timeout: invalid value "5 sec": expected a duration such as "200ms", "5s" or "1m30s"',
    ]);
  });

  test('a missing required value says so', () => {
    const r = checkSchema(schema, { ...good, nested: { mode: 'a' } }, ['p']);
    assert.deepEqual((r as { errors: ConfigError[] }).errors.map(formatConfigError), ['p::nested::size: missing required value (expected number)']);
  });

  test('a typed ${env:...} value in a string field falls back to its text', () => {
    const r = resolveConfig({
      configs: ['yaml:x: {endpoint: "localhost:1", password: "${env:PW}", timeout: 1s, nested: {size: "${env:SIZE}", mode: a}}'],
      env: { PW: '0123', SIZE: '7' },
    });
    const c = checkSchema(schema, r.conf['x'], ['x'], r.originals);
    assert.equal(c.ok, true);
    assert.equal((c as { value: { password: string } }).value.password, '0123');
    assert.equal((c as { value: { nested: { size: number } } }).value.nested.size, 7);
  });

  test('durations and endpoints', () => {
    assert.equal(parseDuration('200ms'), 200);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('100us'), 0.1);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('5'), undefined);
    assert.equal(parseDuration('1 s'), undefined);
    assert.deepEqual(parseEndpoint('localhost:4317'), { host: 'localhost', port: 4317 });
    assert.deepEqual(parseEndpoint(':4317'), { host: '', port: 4317 });
    assert.deepEqual(parseEndpoint('[::1]:4317'), { host: '::1', port: 4317 });
    assert.equal(parseEndpoint('localhost'), undefined);
    assert.equal(parseEndpoint('h:70000'), undefined);
  });
});

describe('redaction', () => {
  test('secret keys and URL passwords are redacted; file paths and key lists are not', () => {
    const out = redact({
      clickhouse: { password: 'p', username: 'u', endpoint: 'https://u:pw@host:8443/db', tls: { key_file: '/k.pem', key_pem: 'PEM' } },
      headers: { Authorization: 'Bearer t', 'x-api-key': 'k' },
      api_token: 'tok',
      client_secret: 's',
      batch: { metadata_keys: ['a'] },
      empty_password: { password: '' },
    });
    assert.deepEqual(out, {
      clickhouse: { password: REDACTED, username: 'u', endpoint: `https://u:${REDACTED}@host:8443/db`, tls: { key_file: '/k.pem', key_pem: REDACTED } },
      headers: { Authorization: REDACTED, 'x-api-key': REDACTED },
      api_token: REDACTED,
      client_secret: REDACTED,
      batch: { metadata_keys: ['a'] },
      empty_password: { password: '' },
    });
    assert.equal(isSecretKey('keys'), false);
    assert.equal(isSecretKey('bypass'), false);
  });
});
