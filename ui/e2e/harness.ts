/**
 * Helpers for the browser tests and the browser benchmark: build the UI when ui/dist is missing or
 * stale, start a real Skua (memory storage, free ports), send it OTLP JSON, launch Debian's
 * Chromium through playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { freePorts } from '../../src/testutil/ports.js';
import { serviceSection } from '../../src/testutil/skua-config.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const uiDir = join(repoRoot, 'ui');
export const screenshotDir = join(repoRoot, 'test-output', 'screenshots');

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) {
    if (e.endsWith('.test.ts')) continue;
    m = Math.max(m, newestMtime(join(p, e)));
  }
  return m;
}

/** Builds ui/dist (`npx vite build --config ui/vite.config.ts`) unless it is newer than its sources. */
export function ensureUiBuilt(): void {
  const lock = join(repoRoot, 'ui', '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    const srcTime = Math.max(newestMtime(join(uiDir, 'src')), newestMtime(join(uiDir, 'index.html')), newestMtime(join(uiDir, 'vite.config.ts')));
    let distTime = 0;
    try {
      distTime = statSync(join(uiDir, 'dist', 'index.html')).mtimeMs;
    } catch {
      /* not built */
    }
    if (distTime > srcTime) return;
    const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
    const r = spawnSync(process.execPath, [vite, 'build', '--config', 'ui/vite.config.ts'], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Skua {
  queryUrl: string;
  otlpHttpUrl: string;
  proc: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx src/cli/main.ts --config <tmp>` with memory storage on free ports. */
export async function startSkua(opts: { basePath?: string } = {}): Promise<Skua> {
  const [query, http, grpc, health, metrics] = await freePorts(5);
  const dir = mkdtempSync(join(tmpdir(), 'skua-ui-e2e-'));
  const config = `
extensions:
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: mem
    base_path: ${opts.basePath ?? '/'}
    http:
      endpoint: 127.0.0.1:${query}
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${health}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpc}
      http:
        endpoint: 127.0.0.1:${http}
        max_request_body_size: 104857600
processors:
  batch: {}
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
${serviceSection({ extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'], processors: ['batch'], logLevel: 'info', metricsPort: metrics! })}`;
  const file = join(dir, 'config.yaml');
  writeFileSync(file, config);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--config', file], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SKUA_LISTEN_HOST: '127.0.0.1' },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (out.includes('Everything is ready')) break;
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`skua exited with ${proc.exitCode}:\n${out}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`skua did not become ready in 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = (opts.basePath ?? '/').replace(/\/$/, '');
  return { queryUrl: `http://127.0.0.1:${query}${base}`, otlpHttpUrl: `http://127.0.0.1:${http}`, proc, logs: () => out, stop };
}

/** POSTs one OTLP JSON export request to the receiver; throws unless 200. */
export async function sendOtlp(otlpHttpUrl: string, body: unknown): Promise<void> {
  const res = await fetch(`${otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`OTLP export answered ${res.status}: ${text}`);
}

/** Waits until API v1 returns the trace with at least `spans` spans. */
export async function waitForTrace(queryUrl: string, traceId: string, spans: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
    if (res.ok) {
      const body = (await res.json()) as { data?: Array<{ spans: unknown[] }> };
      const n = body.data?.[0]?.spans.length ?? 0;
      if (n >= spans) return;
      last = `${n} spans`;
    } else last = `HTTP ${res.status}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`trace ${traceId} did not arrive whole (${last})`);
}

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
}

export function ensureScreenshotDir(): string {
  mkdirSync(screenshotDir, { recursive: true });
  return screenshotDir;
}
