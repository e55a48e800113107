// Plumbing shared by the demo services. There is deliberately no tracing code here (nor anywhere under services/):
// the spans come from `node --require @opentelemetry/auto-instrumentations-node/register`, which patches node:http
// (server and client), express (route names) and undici (fetch), configured only by OTEL_* environment variables.
import http from 'node:http';
import express from 'express';

/** An error that becomes an HTTP response with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Handler = (url: URL, req: http.IncomingMessage) => Promise<unknown>;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A uniformly random integer in [min, max]. */
export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v} is not a number`);
  return n;
}

export function envFloat(name: string, fallback: number): number {
  return envInt(name, fallback);
}

export function envString(name: string, fallback: string): string {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
}

export function requiredParam(url: URL, name: string): string {
  const v = url.searchParams.get(name);
  if (v === null || v === '') throw new HttpError(400, `missing query parameter "${name}"`);
  return v;
}

/** "x,y" -> [x, y] */
export function parseLocation(s: string, param: string): [number, number] {
  const parts = s.split(',').map(Number);
  const [x, y] = parts;
  if (parts.length !== 2 || x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) {
    throw new HttpError(400, `query parameter "${param}" must be "x,y", got "${s}"`);
  }
  return [x, y];
}

/** GET a JSON resource from another service (global fetch, i.e. undici; instrumented with no code here). */
export async function getJson<T>(url: string, timeoutMs = 5000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status === 404 ? 404 : 502, `GET ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Serves `routes` (path -> handler returning a JSON-able value) and `pages` (path -> HTML) with express on
 * host:port. Prints one line `<name> listening on http://host:port` once it accepts connections (the demo runner
 * waits for it), and closes cleanly on SIGTERM/SIGINT so that the OpenTelemetry SDK (which flushes on SIGTERM and on
 * beforeExit) sends the last spans before the process exits.
 */
export function serve(
  name: string,
  host: string,
  port: number,
  routes: Record<string, Handler>,
  pages: Record<string, () => string> = {},
): http.Server {
  const app = express();
  app.disable('x-powered-by');
  for (const [path, page] of Object.entries(pages)) {
    app.get(path, (_req, res) => {
      res.type('html').send(page());
    });
  }
  for (const [path, handler] of Object.entries(routes)) {
    app.get(path, async (req, res) => {
      const url = new URL(req.originalUrl, `http://${req.headers.host ?? 'localhost'}`);
      try {
        res.json(await handler(url, req));
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        if (status >= 500) console.error(`${name}: GET ${req.originalUrl} -> ${status}: ${message}`);
        res.status(status).json({ error: message });
      }
    });
  }
  app.use((req, res) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });
  const server = http.createServer(app);
  server.keepAliveTimeout = 5000;
  server.on('error', (err) => {
    console.error(`${name}: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const addr = server.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    console.log(`${name} listening on http://${host}:${actual}`);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    // In-flight requests get a moment to finish; then the event loop drains, the SDK flushes and the process exits.
    setTimeout(() => server.closeAllConnections(), 1000).unref();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}
