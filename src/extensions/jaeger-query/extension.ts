import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import type { Host } from '../../component/component.js';
import type { Extension } from '../../component/factory.js';
import type { CreateSettings } from '../../component/component.js';
import { durationMs, parseEndpoint } from '../../confmap/schema.js';
import { findStorageExtension } from '../../storage/extension.js';
import { createQueryHandler, normalizeBasePath } from '../../query/handler.js';
import { QueryService } from '../../query/service.js';
import { archiveStorage, maxClockSkewNanos, tracesStorage, unsupportedSettings, type Config } from './config.js';

/**
 * The built web UI: `<package root>/ui/dist`. This file is src/extensions/jaeger-query/extension.ts
 * (run through tsx) or dist/extensions/jaeger-query/extension.js (built): the package root is
 * three levels up in both cases.
 */
export function defaultUiDir(): string {
  return fileURLToPath(new URL('../../../ui/dist', import.meta.url));
}

/**
 * `jaeger_query`: serves Jaeger's HTTP API v1, API v3 and the web UI from the storage backend
 * named by `storage.traces` (found through the `jaeger_storage` extension).
 */
export class JaegerQueryExtension implements Extension {
  private server: Server | undefined;
  private stopping: Promise<void> | undefined;
  private bound: { host: string; port: number } | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: Config,
  ) {}

  /** The address the HTTP server listens on (after start). */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  async start(host: Host): Promise<void> {
    const log = this.settings.telemetry.logger;
    const cfg = this.cfg;
    const storage = findStorageExtension(host);
    const opts = { maxClockSkewAdjust: maxClockSkewNanos(cfg), maxTraceSize: cfg.max_trace_size ?? 0 };
    const service = new QueryService(storage.getTraceStore(tracesStorage(cfg)), opts);
    const archiveName = archiveStorage(cfg);
    const archive = archiveName ? new QueryService(storage.getTraceStore(archiveName), opts) : undefined;

    const ignored = unsupportedSettings(cfg);
    if (ignored.length > 0) log.warn({ settings: ignored }, `jaeger_query: these settings are accepted for compatibility but have no effect: ${ignored.join(', ')}`);

    let uiConfig: unknown;
    if (cfg.ui.config_file) {
      if (extname(cfg.ui.config_file).toLowerCase() !== '.json') {
        throw new Error(`jaeger_query ui::config_file "${cfg.ui.config_file}": only JSON UI configuration files are supported`);
      }
      try {
        uiConfig = JSON.parse(await readFile(cfg.ui.config_file, 'utf8'));
      } catch (e) {
        throw new Error(`jaeger_query ui::config_file "${cfg.ui.config_file}": ${(e as Error).message}`);
      }
    }

    const handler = createQueryHandler({
      service,
      archive,
      basePath: cfg.base_path,
      logger: log,
      uiDir: cfg.ui.assets_path || defaultUiDir(),
      uiConfig,
      logAccess: cfg.ui.log_access ?? false,
      tenancy: cfg.multi_tenancy?.enabled
        ? { enabled: true, header: cfg.multi_tenancy.header ?? 'x-tenant', tenants: cfg.multi_tenancy.tenants ?? [] }
        : undefined,
    });
    const extraHeaders = Object.entries(cfg.http.response_headers ?? {});
    const keepAlive = cfg.http.keep_alives_enabled ?? true;
    const server = createServer((req, res) => {
      for (const [k, v] of extraHeaders) res.setHeader(k, v);
      if (!keepAlive) res.setHeader('connection', 'close');
      handler(req, res);
    });
    if (cfg.http.idle_timeout) server.keepAliveTimeout = durationMs(cfg.http.idle_timeout);
    if (cfg.http.read_header_timeout) server.headersTimeout = durationMs(cfg.http.read_header_timeout);
    if (cfg.http.read_timeout) server.requestTimeout = durationMs(cfg.http.read_timeout);
    if (cfg.http.write_timeout) server.setTimeout(durationMs(cfg.http.write_timeout));

    const ep = parseEndpoint(cfg.http.endpoint);
    if (!ep) throw new Error(`jaeger_query http::endpoint "${cfg.http.endpoint}" is not host:port`);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`jaeger_query cannot listen on ${cfg.http.endpoint}: ${err.message}`, { cause: err }));
      server.once('error', onError);
      server.listen(ep.port, ep.host === '' ? undefined : ep.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => host.reportFatalError(new Error(`jaeger_query HTTP server failed: ${err.message}`, { cause: err })));
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.bound = { host: addr.address, port: addr.port };
    const base = normalizeBasePath(cfg.base_path);
    log.info(
      { endpoint: cfg.http.endpoint, port: addr.port, base_path: `${base}/`, storage: tracesStorage(cfg) },
      `Query server started: UI and API on http://${ep.host || '0.0.0.0'}:${addr.port}${base}/`,
    );
  }

  shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.stopping ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return this.stopping;
  }
}
