/**
 * Failure modes of the clickhouse backend in server mode (`url`), where no ClickHouse server can
 * run here. Real sockets on 127.0.0.1 throughout; where an answer from ClickHouse is needed, a
 * stand-in HTTP endpoint answers as ClickHouse's HTTP interface does (`Ok.` on /ping, result rows
 * in the requested format, errors as `Code: N. DB::Exception: … (NAME)` with the error status) —
 * just enough for the store to start (schema already at the current version) and then fail on
 * purpose. Also: bad `clickhouse` configs through the real `skua validate`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { PermanentError, RetryableError } from '../../component/errors.js';
import { freePort } from '../../testutil/ports.js';
import { baseTime, collect, makeResourceSpans, makeSpan, newTraceId, traces } from '../conformance.js';
import { ClickHouseStore } from './clickhouse.js';
import { createDefaultConfig, type Config } from './config.js';
import { SCHEMA_VERSION } from './schema.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const ctx = { tenant: '' };
const tmp = mkdtempSync(join(tmpdir(), 'skua-ch-failures-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function serverConfig(url: string, over: Partial<Config> = {}): Config {
  const base = createDefaultConfig();
  return { ...base, url, username: 'skua', password: 'hunter2-secret', timeout: '2s', ...over, write: { ...base.write, batch_timeout: '5ms', retry_max_elapsed: '300ms', ...over.write } };
}

const td = () => traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: newTraceId(), start: baseTime() })]));

/** Every read of the contract, as the query service calls them. */
function reads(store: ClickHouseStore): Record<string, () => Promise<unknown>> {
  const t0 = baseTime();
  return {
    getServices: () => store.getServices(ctx),
    getOperations: () => store.getOperations({ serviceName: 's' }, ctx),
    getTraces: () => collect(store.getTraces([{ traceId: newTraceId() }], ctx)),
    findTraces: () => collect(store.findTraces({ serviceName: 's', searchDepth: 5 }, ctx)),
    findTraceIds: () => collect(store.findTraceIds({ attributes: new Map([['k', 'v']]), searchDepth: 5, startTimeMin: t0 - 10n ** 12n, startTimeMax: t0 }, ctx)),
    getDependencies: () => store.getDependencies({ start: t0 - 10n ** 12n, end: t0 }, ctx),
  };
}

// ------------------------------------------------------------------------------------------------
// A stand-in for ClickHouse's HTTP interface
// ------------------------------------------------------------------------------------------------

interface Failure {
  /** Statements (SQL text) that fail. */
  match: RegExp;
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface FakeClickHouse {
  port: number;
  url: string;
  statements: string[];
  fail(f: Failure | undefined): void;
  /** Stops listening and drops every connection (the server is gone). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

const fakes: FakeClickHouse[] = [];
after(async () => {
  for (const f of fakes) await f.down();
});

function chError(code: number, name: string, message: string): { status: number; body: string; headers: Record<string, string> } {
  return {
    status: code === 516 || code === 192 || code === 194 ? 403 : 500,
    body: `Code: ${code}. DB::Exception: ${message}. (${name}) (version 24.8.4.13 (official build))\n`,
    headers: { 'X-ClickHouse-Exception-Code': String(code) },
  };
}

async function fakeClickHouse(): Promise<FakeClickHouse> {
  const port = await freePort();
  let failure: Failure | undefined;
  const statements: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/ping') {
        res.end('Ok.\n');
        return;
      }
      const sql = Buffer.concat(chunks).toString('utf8') || (u.searchParams.get('query') ?? '');
      statements.push(sql);
      const reply = (body: string) => {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Summary': '{"read_rows":"0"}' });
        res.end(body);
      };
      if (failure && failure.match.test(sql)) {
        res.writeHead(failure.status, { 'Content-Type': 'text/plain; charset=UTF-8', ...failure.headers });
        res.end(failure.body);
        return;
      }
      // Start-up: the schema exists at the current version, TTLs as configured.
      if (/FROM system\.tables WHERE database = \{db:String\} AND name = \{t:String\}/.test(sql)) return reply('[1]\n');
      if (/^SELECT max\(Version\) FROM/.test(sql)) return reply(`[${SCHEMA_VERSION}]\n`);
      if (/^SELECT name, engine_full FROM system\.tables/.test(sql)) return reply('');
      if (/^CREATE /.test(sql)) return reply('');
      reply(''); // no rows; INSERTs succeed
    });
  };
  let server: Server | undefined;
  const f: FakeClickHouse = {
    port,
    url: `http://127.0.0.1:${port}`,
    statements,
    fail: (x) => void (failure = x),
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
    async up() {
      const s = createHttpServer(handler);
      await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
      server = s;
    },
  };
  await f.up();
  fakes.push(f);
  return f;
}

async function started(url: string, over: Partial<Config> = {}): Promise<ClickHouseStore> {
  const store = new ClickHouseStore({ config: serverConfig(url, over), name: 'prod' });
  await store.start();
  return store;
}

// ------------------------------------------------------------------------------------------------

describe('clickhouse server mode: failures at start', () => {
  test('a closed port: the error names the backend and the URL and says unreachable; close() is then safe', async () => {
    const port = await freePort();
    for (const url of [`http://127.0.0.1:${port}`, `https://127.0.0.1:${port}`]) {
      const store = new ClickHouseStore({ config: serverConfig(url), name: 'prod' });
      const t0 = Date.now();
      await assert.rejects(store.start(), (e: Error) => {
        assert.match(e.message, /clickhouse backend "prod"/);
        assert.ok(e.message.includes(`ClickHouse at ${url}`), `names ${url}: ${e.message}`);
        assert.match(e.message, /unreachable/);
        assert.doesNotMatch(e.message, /hunter2/, 'never prints the password');
        return true;
      });
      assert.ok(Date.now() - t0 < 5000, 'fails fast');
      await store.close();
      await store.close();
    }
  });

  test('a host that accepts connections but never answers: fails after `timeout`, naming the URL', async () => {
    const port = await freePort();
    const sockets: Socket[] = [];
    const hole: TcpServer = createTcpServer((s) => void sockets.push(s));
    await new Promise<void>((r) => hole.listen(port, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${port}`;
      const store = new ClickHouseStore({ config: serverConfig(url, { timeout: '1s' }), name: 'prod' });
      const t0 = Date.now();
      await assert.rejects(store.start(), (e: Error) => {
        assert.ok(e.message.includes(url), `names the URL: ${e.message}`);
        assert.match(e.message, /unreachable|time(d)? ?out/i);
        return true;
      });
      const ms = Date.now() - t0;
      assert.ok(ms >= 900 && ms < 8000, `gave up after about the timeout (${ms} ms)`);
      await store.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => hole.close(() => r()));
    }
  });

  test('the native-protocol port by mistake (ClickHouse answers "Port 9000 is for clickhouse-client"): the error names the URL and the cause', async () => {
    const port = await freePort();
    const native: TcpServer = createTcpServer((s) => {
      s.once('data', () => s.end('HTTP/1.0 400 Bad Request\r\n\r\nPort 9000 is for clickhouse-client program\r\nYou must use port 8123 for HTTP.\r\n'));
    });
    await new Promise<void>((r) => native.listen(port, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${port}`;
      const store = new ClickHouseStore({ config: serverConfig(url), name: 'prod' });
      await assert.rejects(store.start(), (e: Error) => {
        assert.match(e.message, /clickhouse backend "prod"/);
        assert.match(e.message, /clickhouse-client|8123/, `says what answered: ${e.message}`);
        assert.ok(e.message.includes(url), `names the URL: ${e.message}`);
        return true;
      });
      await store.close();
    } finally {
      await new Promise<void>((r) => native.close(() => r()));
    }
  });

  test('an unreadable TLS CA file: the error names the file', async () => {
    const store = new ClickHouseStore({ config: serverConfig('https://127.0.0.1:1', { tls: { ca_file: join(tmp, 'missing-ca.pem') } }), name: 'prod' });
    await assert.rejects(store.start(), (e: Error) => {
      assert.ok(e.message.includes(join(tmp, 'missing-ca.pem')), e.message);
      assert.match(e.message, /CA file/);
      return true;
    });
    await store.close();
  });

  for (const [code, name] of [
    [516, 'AUTHENTICATION_FAILED'],
    [192, 'UNKNOWN_USER'],
    [194, 'REQUIRED_PASSWORD'],
  ] as const) {
    test(`credentials refused at start (${code} ${name}): says so, names the URL, never the password`, async () => {
      const fake = await fakeClickHouse();
      fake.fail({ match: /./, ...chError(code, name, 'skua: Authentication failed: password is incorrect, or there is no user with such name') });
      const store = new ClickHouseStore({ config: serverConfig(fake.url), name: 'prod' });
      await assert.rejects(store.start(), (e: Error) => {
        assert.ok(e.message.includes(`ClickHouse at ${fake.url} refused the credentials`), e.message);
        assert.match(e.message, /check username and password/);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      });
      await store.close();
    });
  }
});

describe('clickhouse server mode: failures after start (data path)', () => {
  test('the server goes away: every read and write fails with RetryableError naming the URL; back again, both work without a restart', async () => {
    const fake = await fakeClickHouse();
    const store = await started(fake.url);
    try {
      await store.writeTraces(td(), ctx); // accepted while up
      for (const [name, call] of Object.entries(reads(store))) await call().catch((e: unknown) => assert.fail(`${name} while up: ${String(e)}`));

      await fake.down();
      for (const [name, call] of Object.entries(reads(store))) {
        await assert.rejects(call(), (e: unknown) => {
          assert.ok(e instanceof RetryableError, `${name}: ${String(e)}`);
          assert.ok(e.message.includes(fake.url) && /unreachable/.test(e.message), `${name}: ${e.message}`);
          assert.ok(e.retryAfterMs !== undefined && e.retryAfterMs > 0, `${name}: a retry hint`);
          return true;
        });
      }
      await assert.rejects(store.writeTraces(td(), ctx), (e: unknown) => {
        assert.ok(e instanceof RetryableError, String(e));
        assert.ok(e.message.includes(fake.url), e.message);
        return true;
      });
      // While down, refused at once (no buffer grows).
      const t0 = Date.now();
      await assert.rejects(store.writeTraces(td(), ctx), RetryableError);
      assert.ok(Date.now() - t0 < 200, 'refused at once while down');
      assert.equal(store.pendingRows, 0, 'nothing held while down');

      await fake.up();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await store.writeTraces(td(), ctx);
          break;
        } catch (e) {
          assert.ok(e instanceof RetryableError, String(e));
          if (Date.now() > deadline) throw new Error(`writes did not resume within 10 s of the server coming back: ${String(e)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      for (const [name, call] of Object.entries(reads(store))) await call().catch((e: unknown) => assert.fail(`${name} after recovery: ${String(e)}`));
    } finally {
      await store.close();
    }
  });

  for (const [code, name, message] of [
    [241, 'MEMORY_LIMIT_EXCEEDED', 'Memory limit (total) exceeded: would use 10.00 GiB'],
    [202, 'TOO_MANY_SIMULTANEOUS_QUERIES', 'Too many simultaneous queries. Maximum: 100'],
    [516, 'AUTHENTICATION_FAILED', 'skua: Authentication failed: password is incorrect'],
  ] as const) {
    test(`reads answered ${code} ${name} fail with RetryableError`, async () => {
      const fake = await fakeClickHouse();
      const store = await started(fake.url);
      try {
        fake.fail({ match: /^SELECT /, ...chError(code, name, message) });
        for (const [call, fn] of Object.entries(reads(store))) {
          await assert.rejects(fn(), (e: unknown) => {
            assert.ok(e instanceof RetryableError, `${call}: ${String(e)}`);
            if (code === 516) assert.match(e.message, /refused the credentials/, call);
            return true;
          });
        }
      } finally {
        await store.close();
      }
    });
  }

  test('credentials revoked after start: writes fail with RetryableError saying so', async () => {
    const fake = await fakeClickHouse();
    const store = await started(fake.url);
    try {
      fake.fail({ match: /^INSERT /, ...chError(516, 'AUTHENTICATION_FAILED', 'skua: Authentication failed: password is incorrect') });
      await assert.rejects(store.writeTraces(td(), ctx), (e: unknown) => {
        assert.ok(e instanceof RetryableError, String(e));
        assert.match(e.message, /refused the credentials/);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  // A permanent error makes the receiver answer 400 and the SDK drop the spans: only for data
  // that can never be stored. A full disk or a proxy's 502/503 in front of ClickHouse pass.
  for (const [what, failure] of [
    ['a full disk (243 NOT_ENOUGH_SPACE)', chError(243, 'NOT_ENOUGH_SPACE', 'Cannot reserve 1.00 MiB, not enough space')],
    ['a proxy in front of ClickHouse answering 503', { status: 503, body: '<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>\n' }],
    ['a proxy in front of ClickHouse answering 502', { status: 502, body: '<html><head><title>502 Bad Gateway</title></head></html>\n' }],
  ] as const) {
    test(`writes refused by ${what} fail with RetryableError, not PermanentError (the sender must retry)`, async () => {
      const fake = await fakeClickHouse();
      const store = await started(fake.url);
      try {
        fake.fail({ match: /^INSERT /, ...failure });
        await assert.rejects(store.writeTraces(td(), ctx), (e: unknown) => {
          assert.ok(!(e instanceof PermanentError), `a PermanentError makes the receiver answer 400 and the sender drop the data: ${String(e)}`);
          assert.ok(e instanceof RetryableError, String(e));
          return true;
        });
      } finally {
        await store.close();
      }
    });
  }
});

describe('clickhouse config through `skua validate`', () => {
  function validate(clickhouse: Record<string, unknown>): { code: number | null; out: string } {
    const file = join(tmp, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      stringify({
        extensions: { jaeger_storage: { backends: { ch: { clickhouse } } } },
        receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
        exporters: { jaeger_storage_exporter: { trace_storage: 'ch' } },
        service: {
          extensions: ['jaeger_storage'],
          pipelines: { traces: { receivers: ['otlp'], exporters: ['jaeger_storage_exporter'] } },
        },
      }),
    );
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('NODE_TEST') && k !== 'NODE_OPTIONS') env[k] = v;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', '--config', file], { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  test('a valid embedded config passes (the harness itself is right)', () => {
    const r = validate({ embedded: { path: join(tmp, 'data') } });
    assert.equal(r.code, 0, r.out);
  });

  for (const [what, clickhouse] of [
    ['both "embedded" and "url"', { embedded: { path: join(tmp, 'data') }, url: 'http://127.0.0.1:8123' }],
    ['neither "embedded" nor "url"', { database: 'skua' }],
  ] as const) {
    test(`${what}: rejected with the YAML path and what to do, and no misleading follow-up error`, () => {
      const r = validate(clickhouse);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /extensions::jaeger_storage::backends::ch::clickhouse\b[^\n]*exactly one of "embedded" \(in-process engine with a data path\) or "url" \(a ClickHouse server\)/, r.out);
      // The jaeger_storage extension IS listed in service::extensions: an error saying otherwise
      // sends the user looking for the wrong mistake.
      assert.doesNotMatch(r.out, /no jaeger_storage extension is listed/, r.out);
    });
  }
});
