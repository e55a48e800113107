// What the container image would contain, built and run without Docker: `npm pack` in a copy of the
// checkout's tracked files (pack runs `prepare`, the build), the tarball unpacked into an empty folder with
// the lockfile's production dependencies installed (`npm install --omit=dev` with the lockfile, exactly as
// deploy/image/Dockerfile's runtime stage does, from the npm cache), and that installed `skua` started
// through a `skua` on PATH with `--config=FILE`, as the Operator starts the image. One OTLP/HTTP JSON span
// goes in and is read back from the query API; then SIGTERM.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts } from '../src/testutil/ports.js';
import { REPO_ROOT } from '../deploy/tools/model.js';

const execFileP = promisify(execFile);

/** Runs a command; on failure the error carries the end of its output (npm pack fails when the build does). */
async function run(cmd: string, args: string[], opts: { cwd: string }): Promise<void> {
  try {
    await execFileP(cmd, args, { ...opts, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${opts.cwd}:\n${`${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().slice(-4000)}`);
  }
}

let work = '';
let skua: ChildProcess | undefined;
let exited: Promise<number | null> | undefined;
let ports: { grpc: number; http: number; query: number; health: number; metrics: number };
const output: string[] = [];
const timings: Record<string, number> = {};
let setupError: Error | undefined;

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = Date.now() - t0;
  }
}

function config(): string {
  const host = '127.0.0.1';
  return `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${host}:${ports.grpc}
      http:
        endpoint: ${host}:${ports.http}
processors:
  batch:
    timeout: 50ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
extensions:
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 1000
  jaeger_query:
    storage:
      traces: mem
    base_path: /
    http:
      endpoint: ${host}:${ports.query}
  healthcheckv2:
    use_v2: true
    http:
      endpoint: ${host}:${ports.health}
      status:
        enabled: true
        path: /status
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: ${host}
                port: ${ports.metrics}
    logs:
      level: info
`;
}

/** The image's HEALTHCHECK command, run against the installed Skua. */
function imageHealthcheck(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'deploy/image/healthcheck.mjs')], {
      env: { SKUA_HEALTHCHECK_URL: `http://127.0.0.1:${ports.health}/status` },
      stdio: 'ignore',
    });
    child.on('close', (code) => resolve(code ?? -1));
  });
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms; skua output:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the packed package, installed as the image installs it', () => {
  // A failing `before` cancels every test without printing why (node:test reports its error only on the
  // suite, which a shortened CI log may cut off), so the setup's error is kept and each test raises it.
  before(async () => {
    try {
      await setUp();
    } catch (err) {
      setupError = err as Error;
    }
  });

  async function setUp(): Promise<void> {
    work = mkdtempSync(join(tmpdir(), 'skua-package-'));
    // The build runs in a copy of the checkout's tracked files (node_modules linked), as a clean checkout
    // builds: it cannot pick up files git does not hold, and it does not rewrite the checkout's dist/ and
    // ui/dist while tests beside this one serve them.
    const checkout = join(work, 'checkout');
    await timed('copy of the tracked files', async () => {
      const { stdout } = await execFileP('git', ['ls-files', '-z'], { cwd: REPO_ROOT, maxBuffer: 16 << 20 });
      for (const f of stdout.split('\0').filter(Boolean)) {
        if (!existsSync(join(REPO_ROOT, f))) continue; // deleted in the working tree
        mkdirSync(dirname(join(checkout, f)), { recursive: true });
        copyFileSync(join(REPO_ROOT, f), join(checkout, f));
      }
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'));
    });
    // npm pack runs `prepare` (npm run build) and writes only the tarball into `work`.
    await timed('npm pack (with build)', () => run('npm', ['pack', '--pack-destination', work, '--no-audit', '--no-fund'], { cwd: checkout }));
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack wrote a tarball');

    // The Dockerfile's runtime stage: unpack into an empty folder, add the lockfile, install production deps.
    const app = join(work, 'opt', 'skua');
    mkdirSync(app, { recursive: true });
    await run('tar', ['-xzf', join(work, tgz), '--strip-components=1', '-C', app], { cwd: work });
    copyFileSync(join(REPO_ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    // The install may fetch from the registry (what the npm cache lacks); a network failure is tried once more.
    const install = (): Promise<void> => run('npm', ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app });
    await timed('npm install --omit=dev (lockfile, npm cache)', () =>
      install().catch((err: Error) => {
        if (!/ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|socket hang up|network/i.test(err.message)) throw err;
        output.push(`first npm install failed, trying again:\n${err.message}\n`);
        return install();
      }),
    );
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(join(app, 'bin', 'skua.js'), join(bin, 'skua'));

    // Ports are taken just before the start, not before the build and install: in those seconds other tests
    // running beside this one could be given them.
    const [grpc, http, query, health, metrics] = await freePorts(5);
    ports = { grpc: grpc!, http: http!, query: query!, health: health!, metrics: metrics! };
    const cfg = join(work, 'collector.yaml');
    writeFileSync(cfg, config());
    const t0 = Date.now();
    skua = spawn('skua', [`--config=${cfg}`], {
      cwd: work,
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: work, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => skua!.once('exit', (code) => resolve(code)));
    skua.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    skua.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const state = await until('the installed skua is healthy (the image HEALTHCHECK passes)', 60_000, async () =>
      skua!.exitCode !== null ? 'exited' : (await imageHealthcheck()) === 0 ? 'healthy' : undefined,
    );
    if (state === 'exited') throw new Error(`the installed skua exited with ${String(skua.exitCode)}; output:\n${output.join('')}`);
    timings['start until healthy'] = Date.now() - t0;
  }

  /** Raises the setup's error (with the timings so far) in a test, where the report shows it. */
  function ready(): void {
    if (setupError) throw new Error(`setting up the installed package failed (timings so far, ms: ${JSON.stringify(timings)}):\n${setupError.message}`);
  }

  after(async () => {
    if (skua && skua.exitCode === null) {
      skua.kill('SIGKILL');
      await exited;
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the built CLI and no sources or tests', () => {
    ready();
    const app = join(work, 'opt', 'skua');
    assert.ok(existsSync(join(app, 'bin', 'skua.js')));
    assert.ok(existsSync(join(app, 'dist', 'cli', 'main.js')));
    assert.ok(!existsSync(join(app, 'src')), 'TypeScript sources are not shipped');
    assert.ok(!existsSync(join(app, 'node_modules', 'typescript')), 'no devDependencies installed');
    // The lockfile's versions, not whatever the registry has now.
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const dep of ['chdb', '@clickhouse/client', '@grpc/grpc-js', 'zod']) {
      const installed = JSON.parse(readFileSync(join(app, 'node_modules', dep, 'package.json'), 'utf8')) as { version: string };
      assert.equal(installed.version, lock.packages[`node_modules/${dep}`]?.version, dep);
    }
  });

  test('a span sent over OTLP/HTTP JSON is read back from /api/traces/{id}', async (t) => {
    ready();
    const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'deploy-package-test' } }] },
          scopeSpans: [
            {
              scope: { name: 'deploy-package-test' },
              spans: [{ traceId, spanId: '0102030405060708', name: 'packed-span', kind: 2, startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now) }],
            },
          ],
        },
      ],
    };
    const res = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
    const trace = await until('the span is queryable', 10_000, async () => {
      const r = await fetch(`http://127.0.0.1:${ports.query}/api/traces/${traceId}`);
      if (r.status !== 200) return undefined;
      return (await r.json()) as { data: { traceID: string; spans: { operationName: string }[] }[] };
    });
    assert.equal(trace.data[0]!.traceID, traceId);
    assert.deepEqual(trace.data[0]!.spans.map((s) => s.operationName), ['packed-span']);
    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
  });

  test('the installed package serves the UI at the query port', async () => {
    ready();
    const r = await fetch(`http://127.0.0.1:${ports.query}/`);
    const text = await r.text();
    assert.equal(r.status, 200, `GET / answered ${r.status}: ${text.slice(0, 200)}`);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    // Without ui/dist the query extension answers a placeholder page; the image must carry the built UI, so
    // `npm run build` (run by prepare) has to build ui/dist and package.json "files" has to list it.
    assert.doesNotMatch(text, /was not built/, 'the packed package has no ui/dist: add the UI build to `npm run build` and "ui/dist" to package.json "files"');
    assert.match(text, /<div id="root">/, 'the UI index has the app root');
    const bundle = /["'](\.\/assets\/index-[^"']+\.js)["']/.exec(text);
    assert.ok(bundle, 'the UI index loads its hashed bundle');
    const js = await fetch(new URL(bundle[1]!, `http://127.0.0.1:${ports.query}/`));
    assert.equal(js.status, 200, `the bundle ${bundle[1]} is served`);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
  });

  test('SIGTERM stops it cleanly', async () => {
    ready();
    skua!.kill('SIGTERM');
    const code = await Promise.race([exited!, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 0, `exit ${String(code)}; output:\n${output.join('')}`);
  });
});
