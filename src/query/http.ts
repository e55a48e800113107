/**
 * A small HTTP toolkit for the query API on node:http: typed errors, a router with path
 * parameters, and the ONE place where errors become HTTP responses (`sendError`), in the error
 * shape of the API family that was called (Jaeger API v1, API v3, or plain text).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { RetryableError, PermanentError, errorMessage } from '../component/errors.js';
import { UnsupportedError } from '../storage/api.js';

/** An error with the HTTP status it maps to; the message is shown to the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Which API family a route belongs to: decides the error body's shape. */
export type ApiFamily = 'v1' | 'v3' | 'plain';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly query: URLSearchParams;
  /** Decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
  /** The tenant the request acts for ('' when tenancy is off). */
  readonly tenant: string;
}

/** A handler returns the JSON body to send with 200, or throws. */
export type Handler = (ctx: RequestContext) => Promise<unknown>;

interface Route {
  readonly method: string;
  readonly re: RegExp;
  readonly names: readonly string[];
  readonly family: ApiFamily;
  readonly handler: Handler;
}

export interface RouteMatch {
  readonly handler: Handler;
  readonly family: ApiFamily;
  readonly params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];

  /** `pattern` is a path like `/api/traces/:traceId`; a parameter matches one segment. */
  get(pattern: string, family: ApiFamily, handler: Handler): this {
    return this.add('GET', pattern, family, handler);
  }

  post(pattern: string, family: ApiFamily, handler: Handler): this {
    return this.add('POST', pattern, family, handler);
  }

  private add(method: string, pattern: string, family: ApiFamily, handler: Handler): this {
    const names: string[] = [];
    const src = pattern
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method, re: new RegExp(`^${src}/?$`), names, family, handler });
    return this;
  }

  /**
   * The route for a path (relative to the base path). `undefined` when no route has this path;
   * a 405 HttpError when the path exists for other methods.
   */
  match(method: string, path: string): RouteMatch | undefined {
    const allowed = new Set<string>();
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      allowed.add(r.method);
      if (r.method === 'GET') allowed.add('HEAD');
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        const raw = m[i + 1] ?? '';
        try {
          params[n] = decodeURIComponent(raw);
        } catch {
          throw new HttpError(400, `malformed path parameter ${n}: bad percent-encoding`);
        }
      });
      return { handler: r.handler, family: r.family, params };
    }
    if (allowed.size > 0) throw new HttpError(405, `method ${method} is not allowed on ${path}`, { allow: [...allowed].join(', ') });
    return undefined;
  }
}

/**
 * A JSON body produced in pieces (large traces): the pieces are concatenated as they are, written
 * in ~256 KiB chunks with backpressure, so a 50,000-span trace never exists as one object graph
 * plus one giant string.
 */
export class JsonStream {
  constructor(readonly pieces: Iterable<string>) {}
}

const STREAM_CHUNK = 256 * 1024;

export async function sendJsonStream(res: ServerResponse, body: JsonStream, headers: Record<string, string> = {}): Promise<void> {
  const it = body.pieces[Symbol.iterator]();
  // Produce the first chunk before the headers: errors before any byte is sent still become a proper error response.
  // Each piece is encoded straight into the chunk's buffer: a string chunk would be flattened from
  // its pieces, measured for its UTF-8 length and then encoded again by the socket (~2 ms of a
  // 500 KB search answer).
  // A chunk starts small (most answers are); one that outgrows it goes straight to a chunk's full
  // size, and so do the answer's next chunks (doubling copied ~450 KB per chunk of a search answer).
  let size = 64 * 1024;
  const next = (): Buffer | undefined => {
    let buf = Buffer.allocUnsafe(size);
    let pos = 0;
    for (;;) {
      const r = it.next();
      if (r.done) return pos === 0 ? undefined : buf.subarray(0, pos);
      const piece = r.value;
      if (pos + piece.length * 3 > buf.length) {
        size = STREAM_CHUNK + 64 * 1024;
        const bigger = Buffer.allocUnsafe(Math.max(size, pos + piece.length * 3));
        buf.copy(bigger, 0, 0, pos);
        buf = bigger;
      }
      pos += buf.write(piece, pos);
      if (pos >= STREAM_CHUNK) return buf.subarray(0, pos);
    }
  };
  let chunk = next();
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  while (chunk !== undefined) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    chunk = next();
  }
  res.end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, pretty = false): void {
  const text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** The status and client message for any error thrown by a handler or the storage. */
export function classify(err: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, headers: { ...err.headers } };
  if (err instanceof UnsupportedError) return { status: 501, message: err.message, headers: {} };
  if (err instanceof PermanentError) return { status: 400, message: err.message, headers: {} };
  if (err instanceof RetryableError) {
    const headers: Record<string, string> = {};
    if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    return { status: 503, message: `storage unavailable: ${err.message}`, headers };
  }
  return { status: 500, message: `internal error: ${errorMessage(err)}`, headers: {} };
}

/** Writes an error in the shape of the API family; logs server-side failures. */
export function sendError(res: ServerResponse, family: ApiFamily, err: unknown, logger: Logger): void {
  const { status, message, headers } = classify(err);
  if (status >= 500) logger.error({ err, path: res.req.url }, 'query API request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  switch (family) {
    case 'v1':
      // Jaeger's structuredResponse with one structuredError.
      sendJson(res, status, { data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg: message }] }, headers);
      return;
    case 'v3':
      // Jaeger's api_v3 GRPCGatewayError.
      sendJson(res, status, { error: { httpCode: status, message } }, headers);
      return;
    case 'plain': {
      const text = `${message}\n`;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(res.req.method === 'HEAD' ? undefined : text);
    }
  }
}
