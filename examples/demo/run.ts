// `npm run demo`: runs the demo application and a load driver, sending traces to Skua over OTLP/HTTP.
// If nothing answers on the OTLP endpoint (default http://localhost:4318), starts Skua all-in-one first.
// Ctrl-C stops everything (services first, so that their last spans reach Skua, then Skua).
//
// Environment: OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318), SKUA_UI_URL (default
// http://localhost:16686), DEMO_HOST (127.0.0.1), DEMO_FRONTEND_PORT (8080), DEMO_CUSTOMER_PORT (8081),
// DEMO_DRIVER_PORT (8082), DEMO_ROUTE_PORT (8083), DEMO_RATE (dispatch requests per second, default 1; 0 = none).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CUSTOMER_IDS, DEFAULT_PORTS, SERVICES, dispatch, startDemo, type Demo, type ServiceName } from './demo.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318').replace(/\/+$/, '');
const uiUrl = process.env.SKUA_UI_URL || 'http://localhost:16686';
const rate = Number(process.env.DEMO_RATE ?? '1');

function envPort(service: ServiceName): number {
  const v = process.env[`DEMO_${service.toUpperCase()}_PORT`];
  if (v === undefined || v === '') return DEFAULT_PORTS[service];
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`DEMO_${service.toUpperCase()}_PORT=${v} is not a port`);
  return n;
}

/** True when something answers OTLP/HTTP at the endpoint (an empty ExportTraceServiceRequest is a valid request). */
async function otlpAnswers(): Promise<boolean> {
  try {
    await fetch(`${endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(0),
      signal: AbortSignal.timeout(2000),
    });
    return true;
  } catch {
    return false;
  }
}

function isLocal(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

let skua: ChildProcess | undefined;

async function startSkua(): Promise<void> {
  const logFile = join(tmpdir(), 'skua-demo.log');
  const fromSource = existsSync(join(repoRoot, 'src/cli/main.ts'));
  const args = fromSource ? ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')] : [join(repoRoot, 'bin/skua.js')];
  console.log(`Nothing answers on ${endpoint}: starting Skua all-in-one (node ${args.join(' ')}), log in ${logFile}`);
  const log = createWriteStream(logFile);
  // Its own process group: a Ctrl-C in the terminal reaches the demo services, not Skua, which we stop last.
  const child = spawn(process.execPath, args, { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  skua = child;
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await otlpAnswers())) {
    if (exited || Date.now() > deadline) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      throw new Error(`Skua did not start (${exited ? `exited with ${child.exitCode}` : 'timed out'}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopSkua(): Promise<void> {
  const child = skua;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// If this process dies some other way, do not leave Skua running in its own process group.
process.on('exit', () => {
  if (skua && skua.exitCode === null && skua.signalCode === null) skua.kill('SIGTERM');
});

/** Sends `rate` dispatch requests per second until stopped; prints a summary every 15 s. */
function startLoad(frontendUrl: string): () => void {
  if (!(rate > 0)) return () => {};
  let sent = 0;
  const statuses = new Map<string, number>();
  let latencies: number[] = [];
  const tick = setInterval(() => {
    const customer = CUSTOMER_IDS[Math.floor(Math.random() * CUSTOMER_IDS.length)] as string;
    const t0 = performance.now();
    sent++;
    dispatch(frontendUrl, customer).then(
      (r) => {
        statuses.set(String(r.status), (statuses.get(String(r.status)) ?? 0) + 1);
        latencies.push(performance.now() - t0);
      },
      (err: unknown) => {
        const key = err instanceof Error ? err.name : 'error';
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      },
    );
  }, 1000 / rate);
  const report = setInterval(() => {
    const sorted = latencies.sort((a, b) => a - b);
    const q = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
    const counts = [...statuses].map(([k, n]) => `${n}×${k}`).join(', ');
    console.log(`load: ${sent} requests (${counts || 'none answered yet'}), latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`);
    sent = 0;
    statuses.clear();
    latencies = [];
  }, 15_000);
  return () => {
    clearInterval(tick);
    clearInterval(report);
  };
}

async function main(): Promise<void> {
  if (!(await otlpAnswers())) {
    if (!isLocal(endpoint)) throw new Error(`nothing answers OTLP/HTTP on ${endpoint}`);
    await startSkua();
  } else {
    console.log(`Sending traces to the OTLP/HTTP endpoint already answering on ${endpoint}`);
  }

  const ports = Object.fromEntries(SERVICES.map((s) => [s, envPort(s)])) as Record<ServiceName, number>;
  const demo: Demo = await startDemo({
    otlpHttpEndpoint: endpoint,
    ports,
    host: process.env.DEMO_HOST || '127.0.0.1',
    log: (service, line) => console.log(`[${service}] ${line}`),
  });
  const stopLoad = startLoad(demo.frontendUrl);

  console.log(`
Skua demo is running: four services instrumented with no tracing code (OTEL_* environment variables only).
  Frontend (click a customer):  ${demo.frontendUrl}
  Skua UI (service "frontend"): ${uiUrl}
  Query API:                    ${uiUrl}/api/services
  Load driver:                  ${rate > 0 ? `${rate} request(s)/s (DEMO_RATE=0 turns it off)` : 'off'}
Press Ctrl-C to stop.
`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      console.log('Forced exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping the demo services (they flush their spans), then Skua…`);
    stopLoad();
    demo
      .stop()
      .then(stopSkua)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await stopSkua();
  process.exit(1);
});
