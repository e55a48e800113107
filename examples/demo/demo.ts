// Starts the demo application (four services, each its own Node process) and drives load against it.
//
// The services contain no tracing code. Each one runs as
//   node --require tsx/cjs --require @opentelemetry/auto-instrumentations-node/register services/<name>.ts
// and is configured only by OTEL_* environment variables. (tsx/cjs compiles the TypeScript; it is loaded first so
// that its own start-up socket is not traced. The services are CommonJS so that require('node:http') and
// require('express') go through the hooks that auto-instrumentation installs.)
//
// Used by run.ts (`npm run demo`) and by tests: startDemo({ otlpHttpEndpoint, ports }) and driveLoad(url, n).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const SERVICES = ['customer', 'driver', 'route', 'frontend'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const DEFAULT_PORTS: Record<ServiceName, number> = { frontend: 8080, customer: 8081, driver: 8082, route: 8083 };

/** Customer ids the customer service knows (the load driver cycles through them). */
export const CUSTOMER_IDS = ['123', '392', '567', '731'] as const;

export interface DemoOptions {
  /** OTLP/HTTP base URL, e.g. http://localhost:4318 (the SDK posts to <endpoint>/v1/traces). */
  otlpHttpEndpoint: string;
  /** Port per service; 0 takes a free port. Defaults: 8080 frontend, 8081 customer, 8082 driver, 8083 route. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Interface the services listen on (default 127.0.0.1). */
  host?: string;
  /**
   * Extra environment for every service, applied last: OTEL_* settings (e.g. OTEL_BSP_SCHEDULE_DELAY) or the demo's
   * knobs (DEMO_DRIVER_FAILURE_RATE, DEMO_DB_SLOW_RATE, DEMO_DB_POOL_SIZE, DEMO_DRIVER_ATTEMPTS, DEMO_ROUTE_WORKERS).
   */
  env?: Record<string, string>;
  /** Receives every line a service prints (default: dropped). */
  log?: (service: ServiceName, line: string) => void;
  /** How long to wait for each service to listen (default 30 s). */
  startTimeoutMs?: number;
}

export interface Demo {
  frontendUrl: string;
  /** Base URL of every service. */
  urls: Record<ServiceName, string>;
  /** SIGTERM to every service; resolves when all have exited (each flushes its spans first). Idempotent. */
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const servicesDir = fileURLToPath(new URL('./services/', import.meta.url));

/** The OTEL_* environment of one service: this is all the "instrumentation" the demo has. */
export function otelEnv(service: ServiceName, otlpHttpEndpoint: string): Record<string, string> {
  return {
    OTEL_SERVICE_NAME: service,
    OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=skua-demo,service.version=1.0.0,deployment.environment.name=demo',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_PROPAGATORS: 'tracecontext,baggage',
    // Skua stores traces only.
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    // Export every second rather than every 5 s, so that traces show up while you watch.
    OTEL_BSP_SCHEDULE_DELAY: '1000',
    // No cloud detectors: they probe metadata endpoints that do not exist here.
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
    // express 5 is built on `router`; instrumenting both doubles every middleware span.
    OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'router',
  };
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    // Nothing from the caller's own OpenTelemetry or test-runner setup leaks into the services.
    if (k.startsWith('OTEL_') || k === 'NODE_OPTIONS' || k.startsWith('NODE_TEST')) continue;
    env[k] = v;
  }
  return env;
}

interface Running {
  name: ServiceName;
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function startService(
  name: ServiceName,
  port: number,
  opts: DemoOptions,
  peers: Partial<Record<ServiceName, string>>,
): Promise<Running> {
  const host = opts.host ?? '127.0.0.1';
  const env: Record<string, string> = {
    ...baseEnv(),
    ...otelEnv(name, opts.otlpHttpEndpoint),
    DEMO_HOST: host,
    DEMO_PORT: String(port),
    ...(peers.customer ? { DEMO_CUSTOMER_URL: peers.customer } : {}),
    ...(peers.driver ? { DEMO_DRIVER_URL: peers.driver } : {}),
    ...(peers.route ? { DEMO_ROUTE_URL: peers.route } : {}),
    ...opts.env,
  };
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', '--require', '@opentelemetry/auto-instrumentations-node/register', `${servicesDir}${name}.ts`],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return new Promise<Running>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      fail(new Error(`${name} did not start within ${opts.startTimeoutMs ?? 30_000} ms`));
    }, opts.startTimeoutMs ?? 30_000);
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${output.join('\n')}`));
    };
    const onLine = (line: string): void => {
      if (output.length < 200) output.push(line);
      opts.log?.(name, line);
      const m = /listening on http:\/\/\S+:(\d+)$/.exec(line);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ name, child, url: `http://${urlHost}:${m[1]}`, exited });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('error', (err) => fail(err));
    child.once('exit', (code, signal) => fail(new Error(`${name} exited (${signal ?? code}) before listening`)));
  });
}

async function stopAll(running: Running[], timeoutMs = 15_000): Promise<void> {
  await Promise.all(
    running.map(async (r) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return;
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs);
      await r.exited;
      clearTimeout(timer);
    }),
  );
}

/** Starts the four services in parallel. */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  // Port 0: take a port the OS says is free now, so that the frontend knows its peers' ports from the start.
  const ports = {} as Record<ServiceName, number>;
  const taken = new Set(SERVICES.map((s) => opts.ports?.[s] ?? DEFAULT_PORTS[s]));
  for (const s of SERVICES) {
    let p = opts.ports?.[s] ?? DEFAULT_PORTS[s];
    while (p === 0) {
      const candidate = await freePort(host);
      if (!taken.has(candidate)) p = candidate;
    }
    taken.add(p);
    ports[s] = p;
  }
  const peers = {
    customer: `http://${urlHost}:${ports.customer}`,
    driver: `http://${urlHost}:${ports.driver}`,
    route: `http://${urlHost}:${ports.route}`,
  };
  const running: Running[] = [];
  try {
    const started = await settleAll(
      SERVICES.map((s) =>
        startService(s, ports[s], opts, peers).then((r) => {
          running.push(r);
          return r;
        }),
      ),
    );
    const urls = Object.fromEntries(started.map((r) => [r.name, r.url])) as Record<ServiceName, string>;
    let stopping: Promise<void> | undefined;
    return {
      frontendUrl: urls.frontend,
      urls,
      stop: () => (stopping ??= stopAll(running)),
    };
  } catch (err) {
    await stopAll(running);
    throw err;
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Like Promise.all, but waits for every promise to settle before rejecting with the first error. */
async function settleAll<T>(ps: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export interface LoadOptions {
  /** Requests in flight at once (default 2). */
  concurrency?: number;
  /** Called after every request. */
  onResponse?: (r: { customer: string; status: number; ms: number; body: string }) => void;
}

/** One `GET /dispatch?customer=ID` to the frontend; resolves with its status (never rejects on an HTTP status). */
export async function dispatch(frontendUrl: string, customer: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${frontendUrl}/dispatch?customer=${encodeURIComponent(customer)}`, {
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.text() };
}

/**
 * Sends `requests` dispatch requests to the frontend, cycling through the known customers. Resolves when all have
 * been answered. Rejects if the frontend cannot be reached or answers anything other than 200, or 503 (which the
 * frontend returns when the flaky driver service failed every attempt: that is part of the demo).
 */
export async function driveLoad(frontendUrl: string, requests: number, opts: LoadOptions = {}): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      const customer = CUSTOMER_IDS[i % CUSTOMER_IDS.length] as string;
      const t0 = performance.now();
      const { status, body } = await dispatch(frontendUrl, customer);
      opts.onResponse?.({ customer, status, ms: performance.now() - t0, body });
      if (status !== 200 && status !== 503) {
        throw new Error(`GET /dispatch?customer=${customer} answered ${status}: ${body}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, requests)) }, worker));
}
