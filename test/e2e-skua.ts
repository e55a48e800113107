// Helpers for end-to-end tests: run a real Skua as a child process (`node --import tsx src/cli/main.ts --config F`)
// on free ports, wait until it is healthy, read its output, stop it. Not a test file itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePorts } from '../src/testutil/ports.js';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface SkuaPorts {
  grpc: number;
  http: number;
  query: number;
  health: number;
  metrics: number;
}

export interface ConfigOptions {
  /** Processors in pipeline order, each `id: config` (default `{ batch: {} }`). */
  processors?: Record<string, unknown>;
  /** Extra keys for receivers::otlp::protocols::http (e.g. max_request_body_size). */
  http?: Record<string, unknown>;
  /** Extra keys for receivers::otlp::protocols::grpc. */
  grpc?: Record<string, unknown>;
  /** jaeger_storage memory backend max_traces (default 100000). */
  maxTraces?: number;
  /** service::telemetry::logs::level (default info). */
  logLevel?: string;
}

/** An all-in-one config (OTLP gRPC+HTTP, processors, memory storage, query, healthcheckv2, metrics) on `ports`. */
export function skuaConfig(ports: SkuaPorts, opts: ConfigOptions = {}): string {
  const processors = opts.processors ?? { batch: {} };
  const config = {
    extensions: {
      jaeger_storage: { backends: { mem: { memory: { max_traces: opts.maxTraces ?? 100_000 } } } },
      jaeger_query: { storage: { traces: 'mem' }, http: { endpoint: `127.0.0.1:${ports.query}` } },
      healthcheckv2: { use_v2: true, http: { endpoint: `127.0.0.1:${ports.health}` } },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `127.0.0.1:${ports.grpc}`, ...opts.grpc },
          http: { endpoint: `127.0.0.1:${ports.http}`, ...opts.http },
        },
      },
    },
    processors,
    exporters: { jaeger_storage_exporter: { trace_storage: 'mem' } },
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: Object.keys(processors), exporters: ['jaeger_storage_exporter'] },
      },
      telemetry: {
        metrics: { readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: ports.metrics } } } }] },
        logs: { level: opts.logLevel ?? 'info' },
      },
    },
  };
  return stringify(config);
}

export interface Skua {
  ports: SkuaPorts;
  /** http://127.0.0.1:<http> (OTLP/HTTP base; traces at /v1/traces). */
  otlpHttp: string;
  /** 127.0.0.1:<grpc> */
  otlpGrpc: string;
  /** http://127.0.0.1:<query> */
  query: string;
  /** http://127.0.0.1:<metrics>/metrics */
  metricsUrl: string;
  proc: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first output line matching `re` (already printed or later). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** True while the process runs. */
  alive(): boolean;
  /** Sends `signal` (default SIGTERM) and resolves with the exit status; SIGKILL after `timeoutMs`. Idempotent. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions extends ConfigOptions {
  /** The whole config instead of skuaConfig(ports, opts). */
  config?: (ports: SkuaPorts) => string;
  /** Time to wait for health (default 60 s: the machine is shared). */
  startTimeoutMs?: number;
  env?: Record<string, string>;
}

/** Health URLs tried in turn: healthcheckv2's status path, then the v1 root. */
const HEALTH_PATHS = ['/status', '/'];

export async function startSkua(opts: StartOptions = {}): Promise<Skua> {
  const [grpc, http, query, health, metrics] = (await freePorts(5)) as [number, number, number, number, number];
  const ports: SkuaPorts = { grpc, http, query, health, metrics };
  const dir = mkdtempSync(join(tmpdir(), 'skua-e2e-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, opts.config ? opts.config(ports) : skuaConfig(ports, opts));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('NODE_TEST') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--config', configFile], {
    cwd: repoRoot,
    env: { ...env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const skua: Skua = {
    ports,
    otlpHttp: `http://127.0.0.1:${http}`,
    otlpGrpc: `127.0.0.1:${grpc}`,
    query: `http://127.0.0.1:${query}`,
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
    proc,
    output: () => out,
    alive,
    waitForLine: (re, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const line = out.split('\n').find((l) => re.test(l));
        if (line !== undefined) return resolve(line);
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no output line matching ${re} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(w);
      }),
    stop: (signal = 'SIGTERM', timeoutMs = 20_000) =>
      (stopping ??= (async () => {
        if (alive()) {
          proc.kill(signal);
          const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
          const r = await exited;
          clearTimeout(timer);
          rmSync(dir, { recursive: true, force: true });
          return r;
        }
        rmSync(dir, { recursive: true, force: true });
        return { code: proc.exitCode, signal: proc.signalCode };
      })()),
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (!alive()) {
      await skua.stop();
      throw new Error(`skua exited (${proc.exitCode ?? proc.signalCode}) before it was healthy:\n${out.slice(-4000)}`);
    }
    if (await healthy(health)) return skua;
    if (Date.now() > deadline) {
      await skua.stop('SIGKILL');
      throw new Error(`skua not healthy on 127.0.0.1:${health} within the deadline:\n${out.slice(-4000)}`);
    }
    await sleep(100);
  }
}

async function healthy(port: number): Promise<boolean> {
  for (const path of HEALTH_PATHS) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` until it returns a value other than undefined; throws the last error / a timeout. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    }
    await sleep(100);
  }
}

/** GET a JSON document; returns status and parsed body. */
export async function getJson(url: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** Value of the Prometheus sample `name{labels}` summed over series whose labels include all of `match`. */
export function metricValue(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
