/**
 * The query HTTP handler: base path, tenancy, the API v1 and v3 routes, and the UI's static files.
 * `createQueryHandler` returns a plain node:http request listener, so tests and the `jaeger_query`
 * extension mount it the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { UnixNanos } from '../pdata/model.js';
import { registerV1 } from './api-v1.js';
import { registerV3 } from './api-v3.js';
import { HttpError, JsonStream, Router, sendError, sendJson, sendJsonStream, type ApiFamily } from './http.js';
import type { QueryService } from './service.js';
import { StaticUi } from './static.js';

export interface TenancyOptions {
  readonly enabled: boolean;
  /** The HTTP header carrying the tenant (Jaeger: x-tenant). */
  readonly header: string;
  /** Allowed tenants; empty = any. */
  readonly tenants: readonly string[];
}

export interface QueryHandlerOptions {
  readonly service: QueryService;
  readonly archive?: QueryService | undefined;
  /** As configured ('/', '/jaeger', '/jaeger/'); normalised here. */
  readonly basePath: string;
  readonly logger: Logger;
  /** The built UI's directory; undefined serves no UI (the API only). */
  readonly uiDir?: string | undefined;
  readonly uiConfig?: unknown;
  readonly logAccess?: boolean;
  readonly tenancy?: TenancyOptions | undefined;
  /** The clock, for tests. */
  readonly now?: () => UnixNanos;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** '/' → '', '/jaeger/' → '/jaeger'. */
export function normalizeBasePath(p: string): string {
  const t = p.trim().replace(/\/+$/, '');
  if (t === '') return '';
  return t.startsWith('/') ? t : `/${t}`;
}

const wallClock = (): UnixNanos => BigInt(Date.now()) * 1_000_000n;

export function createQueryHandler(o: QueryHandlerOptions): RequestListener {
  const base = normalizeBasePath(o.basePath);
  const now = o.now ?? wallClock;
  const router = new Router();
  registerV1(router, { service: o.service, archive: o.archive, now });
  registerV3(router, { service: o.service, archive: o.archive });
  const ui = o.uiDir ? new StaticUi({ dir: o.uiDir, basePath: base, logger: o.logger, logAccess: o.logAccess ?? false, uiConfig: o.uiConfig }) : undefined;
  const tenantHeader = o.tenancy?.header.toLowerCase() ?? '';

  function tenantOf(req: IncomingMessage): string {
    if (!o.tenancy?.enabled) return '';
    const v = req.headers[tenantHeader];
    const tenant = (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
    if (tenant === '') throw new HttpError(401, `missing tenant header ${o.tenancy.header}`);
    if (o.tenancy.tenants.length > 0 && !o.tenancy.tenants.includes(tenant)) throw new HttpError(401, `unknown tenant ${tenant}`);
    return tenant;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, family: { v: ApiFamily }): Promise<void> {
    const path = url.pathname;
    if (base !== '' && path !== base && !path.startsWith(`${base}/`)) {
      if (path === '/' && ui) {
        res.writeHead(302, { location: `${base}/` });
        res.end();
        return;
      }
      throw new HttpError(404, `not found; Skua is served under ${base}/`);
    }
    const rel = path.slice(base.length) || '/';
    if (rel === '/api' || rel.startsWith('/api/')) {
      family.v = rel.startsWith('/api/v3/') || rel === '/api/v3' ? 'v3' : 'v1';
      const m = router.match(req.method ?? 'GET', rel);
      if (!m) throw new HttpError(404, `no API route ${rel}`);
      family.v = m.family;
      const tenant = tenantOf(req);
      const body = await m.handler({ req, res, url, query: url.searchParams, params: m.params, tenant });
      const p = url.searchParams.get('prettyPrint');
      const pretty = p !== null && p !== '' && p !== 'false';
      if (body instanceof JsonStream) {
        if (pretty) sendJson(res, 200, JSON.parse([...body.pieces].join('')), {}, true);
        else await sendJsonStream(res, body);
      } else sendJson(res, 200, body, {}, pretty);
      return;
    }
    if (!ui) throw new HttpError(404, 'not found (the UI is not served)');
    if (base !== '' && path === base) {
      res.writeHead(301, { location: `${base}/${url.search}` });
      res.end();
      return;
    }
    await ui.serve(req, res, rel);
  }

  return (req, res) => {
    const family: { v: ApiFamily } = { v: 'plain' };
    let url: URL;
    try {
      url = new URL(`http://localhost${req.url ?? '/'}`);
    } catch {
      sendError(res, 'plain', new HttpError(400, 'bad request URL'), o.logger);
      return;
    }
    handle(req, res, url, family).catch((err: unknown) => sendError(res, family.v, err, o.logger));
  };
}
