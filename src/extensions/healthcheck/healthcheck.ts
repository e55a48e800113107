/**
 * Health endpoints over the service's component status (src/service/status.ts):
 * - v2 HTTP (healthcheckv2 with use_v2): GET /status (and /) → 200 with a JSON status while every
 *   pipeline runs, 503 while starting or stopping, 500 on a fatal error (or on component errors
 *   when component_health opts in); `?pipeline=traces` for one pipeline, `?verbose` for every
 *   component; optional /config with the effective (redacted) configuration.
 * - v2 gRPC: grpc.health.v1.Health/Check (service "" = the whole service, or a pipeline id).
 * - legacy HTTP (health_check, or healthcheckv2 without use_v2): GET path → 200 "Server available"
 *   / 503 "Server not available", as the Collector's v1 extension answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { CreateSettings, Host } from '../../component/component.js';
import type { Extension } from '../../component/factory.js';
import type { LegacyConfig, V2Config } from './config.js';
import { durationMs, parseEndpoint } from '../../confmap/schema.js';
import {
  statusNames,
  statusSourceOf,
  type AggregateStatus,
  type StatusEntry,
  type StatusSource,
} from '../../service/status.js';

export interface HealthSettings {
  readonly legacy?: { endpoint: string; path: string; responseBody?: { healthy?: string; unhealthy?: string } };
  readonly http?: { endpoint: string; statusPath?: string; configPath?: string };
  readonly grpc?: { endpoint: string };
  readonly componentHealth?: { includePermanentErrors: boolean; includeRecoverableErrors: boolean; recoveryDurationMs: number };
}

/** Under a host without status (a bare test host): healthy between start and shutdown. */
class OwnLifecycleStatus implements StatusSource {
  readonly startTime = new Date();
  state: StatusEntry = { status: 'starting', since: new Date() };
  overall(): AggregateStatus {
    return { ...this.state, components: {} };
  }
  pipeline(): AggregateStatus | undefined {
    return undefined;
  }
  pipelineIds(): string[] {
    return [];
  }
  effectiveConfig(): unknown {
    return {};
  }
}

export class HealthCheckExtension implements Extension {
  private source: StatusSource | undefined;
  private own: OwnLifecycleStatus | undefined;
  private httpServer: Server | undefined;
  private grpcServer: grpc.Server | undefined;
  private stopping: Promise<void> | undefined;
  /** Bound ports (the real ones when 0 was configured). */
  httpPort: number | undefined;
  grpcPort: number | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: HealthSettings,
  ) {}

  async start(host: Host): Promise<void> {
    this.source = statusSourceOf(host);
    if (!this.source) this.source = this.own = new OwnLifecycleStatus();
    const log = this.settings.telemetry.logger;
    if (this.cfg.legacy) {
      const { endpoint } = this.cfg.legacy;
      this.httpServer = await listenHttp(endpoint, (req, res) => this.handleLegacy(req, res));
      this.httpPort = (this.httpServer.address() as AddressInfo).port;
      log.info({ endpoint, path: this.cfg.legacy.path }, 'Health check (legacy) serving');
    } else if (this.cfg.http) {
      const { endpoint } = this.cfg.http;
      this.httpServer = await listenHttp(endpoint, (req, res) => this.handleV2(req, res));
      this.httpPort = (this.httpServer.address() as AddressInfo).port;
      log.info({ endpoint, path: this.cfg.http.statusPath }, 'Health check HTTP serving');
    }
    if (this.cfg.grpc) {
      this.grpcServer = new grpc.Server();
      this.grpcServer.addService(healthServiceDefinition, {
        Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: number }>, cb: grpc.sendUnaryData<{ status: number }>) =>
          this.grpcCheck(call.request.service, cb),
      });
      const hp = parseEndpoint(this.cfg.grpc.endpoint)!;
      const addr = `${hp.host === '' ? '0.0.0.0' : hp.host.includes(':') ? `[${hp.host}]` : hp.host}:${hp.port}`;
      try {
        this.grpcPort = await new Promise<number>((resolve, reject) =>
          this.grpcServer!.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
        );
      } catch (err) {
        throw new Error(`grpc: cannot listen on ${this.cfg.grpc.endpoint}: ${(err as Error).message}`, { cause: err });
      }
      log.info({ endpoint: this.cfg.grpc.endpoint }, 'Health check gRPC serving');
    }
    if (this.own) this.own.state = { status: 'ok', since: new Date() };
  }

  /** HTTP status for an aggregate, with the Collector's mapping and the component_health opt-ins. */
  private httpCode(s: StatusEntry): number {
    switch (s.status) {
      case 'ok':
        return 200;
      case 'starting':
      case 'stopping':
      case 'stopped':
        return 503;
      case 'fatal_error':
        return 500;
      case 'permanent_error':
        return this.cfg.componentHealth?.includePermanentErrors ? 500 : 200;
      case 'recoverable_error': {
        const ch = this.cfg.componentHealth;
        if (ch?.includeRecoverableErrors && Date.now() - s.since.getTime() > ch.recoveryDurationMs) return 500;
        return 200;
      }
    }
  }

  private serialize(s: StatusEntry | AggregateStatus, verbose: boolean, top: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (top) out['start_time'] = this.source!.startTime.toISOString();
    out['healthy'] = this.httpCode(s) === 200;
    out['status'] = statusNames[s.status];
    if (s.error !== undefined) out['error'] = s.error;
    out['status_time'] = s.since.toISOString();
    if (verbose && 'components' in s && Object.keys(s.components).length > 0) {
      const comps: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.components)) comps[k] = this.serialize(v, true, false);
      out['components'] = comps;
    }
    return out;
  }

  private handleV2(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://health');
    const http = this.cfg.http!;
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' }, req);
    if (http.configPath && url.pathname === http.configPath) return sendJson(res, 200, this.source!.effectiveConfig(), req);
    if (!http.statusPath || (url.pathname !== http.statusPath && url.pathname !== '/')) {
      return sendJson(res, 404, { error: `not found; the status is served on ${http.statusPath ?? '(disabled)'}` }, req);
    }
    const pipeline = url.searchParams.get('pipeline');
    const verbose = url.searchParams.has('verbose');
    const agg = pipeline ? this.source!.pipeline(pipeline) : this.source!.overall();
    if (!agg) return sendJson(res, 404, { error: `unknown pipeline "${pipeline}"`, pipelines: this.source!.pipelineIds() }, req);
    sendJson(res, this.httpCode(agg), this.serialize(agg, verbose, true), req);
  }

  private handleLegacy(req: IncomingMessage, res: ServerResponse): void {
    const legacy = this.cfg.legacy!;
    const url = new URL(req.url ?? '/', 'http://health');
    if (url.pathname !== legacy.path) return sendJson(res, 404, { error: `not found; the health check is served on ${legacy.path}` }, req);
    const agg = this.source!.overall();
    const ok = this.httpCode(agg) === 200;
    const upSince = this.source!.startTime;
    const body = ok ? legacy.responseBody?.healthy : legacy.responseBody?.unhealthy;
    if (body !== undefined) {
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    sendJson(
      res,
      ok ? 200 : 503,
      { status: ok ? 'Server available' : 'Server not available', upSince: upSince.toISOString(), uptime: `${((Date.now() - upSince.getTime()) / 1000).toFixed(3)}s` },
      req,
    );
  }

  private grpcCheck(service: string, cb: grpc.sendUnaryData<{ status: number }>): void {
    const agg = service === '' ? this.source!.overall() : this.source!.pipeline(service);
    if (!agg) {
      cb({ code: grpc.status.NOT_FOUND, details: `unknown service "${service}"; use "" or a pipeline id (${this.source!.pipelineIds().join(', ')})` });
      return;
    }
    cb(null, { status: this.httpCode(agg) === 200 ? SERVING : NOT_SERVING });
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.own) this.own.state = { status: 'stopping', since: new Date() };
      const http = this.httpServer;
      if (http) {
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
      }
      const g = this.grpcServer;
      if (g) await new Promise<void>((resolve) => g.tryShutdown(() => resolve()));
    })();
    return this.stopping;
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown, req: IncomingMessage): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

async function listenHttp(endpoint: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const hp = parseEndpoint(endpoint)!;
  const server = createServer(handler);
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(hp.port, hp.host === '' ? undefined : hp.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new Error(`cannot listen on ${endpoint}: ${(err as Error).message}`, { cause: err });
  }
  return server;
}

// grpc.health.v1 (https://github.com/grpc/grpc/blob/master/doc/health-checking.md), encoded by
// hand: HealthCheckRequest {string service = 1}, HealthCheckResponse {ServingStatus status = 1}.
const SERVING = 1;
const NOT_SERVING = 2;

function decodeHealthRequest(buf: Buffer): { service: string } {
  let pos = 0;
  let service = '';
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated HealthCheckRequest');
      const b = buf[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
      if (shift > 63) throw new Error('bad varint');
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new Error('truncated HealthCheckRequest');
      if (tag >>> 3 === 1) service = buf.toString('utf8', pos, pos + len);
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error('bad wire type');
  }
  return { service };
}

export const healthServiceDefinition: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: { service: string }) => {
      const s = Buffer.from(r.service, 'utf8');
      return s.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, s.length]), s]);
    },
    requestDeserialize: decodeHealthRequest,
    responseSerialize: (r: { status: number }) => Buffer.from([0x08, r.status]),
    responseDeserialize: (b: Buffer) => ({ status: b.length >= 2 && b[0] === 0x08 ? b[1]! : 0 }),
  },
};

export function legacySettings(cfg: LegacyConfig): HealthSettings {
  return { legacy: { endpoint: cfg.endpoint, path: cfg.path, ...(cfg.response_body ? { responseBody: cfg.response_body } : {}) } };
}

export function v2Settings(c: V2Config): HealthSettings {
  if (!c.use_v2) return legacySettings(c);
  const ch = c.component_health;
  return {
    ...(c.http
      ? {
          http: {
            endpoint: c.http.endpoint,
            ...(c.http.status.enabled ? { statusPath: c.http.status.path } : {}),
            ...(c.http.config.enabled ? { configPath: c.http.config.path } : {}),
          },
        }
      : {}),
    ...(c.grpc ? { grpc: { endpoint: c.grpc.endpoint } } : {}),
    ...(ch
      ? {
          componentHealth: {
            includePermanentErrors: ch.include_permanent_errors,
            includeRecoverableErrors: ch.include_recoverable_errors,
            recoveryDurationMs: durationMs(ch.recovery_duration),
          },
        }
      : {}),
  };
}
