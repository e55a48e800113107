import { z } from 'zod';
import { duration, endpoint, parseDuration } from '../../confmap/schema.js';

/**
 * `extensions: jaeger_query:` — Jaeger v2's query extension settings (cmd/jaeger/internal/extension/
 * jaegerquery: config.go and QueryOptions), so Jaeger configs load unchanged. Every key Jaeger
 * accepts is accepted; the ones Skua does not act on yet are logged as a warning at start
 * (see `unsupportedSettings`), except where ignoring them would be unsafe (http.tls, http.auth:
 * rejected, because serving plain HTTP where TLS or authentication was asked for is worse than failing).
 */

/** Collector settings whose inner structure Skua does not interpret: any map is accepted. */
const anyMap = z.record(z.string(), z.unknown());

const httpServer = z.strictObject({
  endpoint: endpoint(),
  transport: z.string().optional(),
  tls: anyMap.optional(),
  cors: z
    .strictObject({
      allowed_origins: z.array(z.string()).optional(),
      allowed_headers: z.array(z.string()).optional(),
      max_age: z.number().int().optional(),
    })
    .optional(),
  auth: anyMap.optional(),
  include_metadata: z.boolean().optional(),
  max_request_body_size: z.number().int().min(0).optional(),
  response_headers: z.record(z.string(), z.string()).optional(),
  compression_algorithms: z.array(z.string()).optional(),
  read_timeout: duration().optional(),
  read_header_timeout: duration().optional(),
  write_timeout: duration().optional(),
  idle_timeout: duration().optional(),
  keep_alives_enabled: z.boolean().optional(),
  middlewares: z.array(z.unknown()).optional(),
});

const grpcServer = z.strictObject({
  endpoint: endpoint(),
  transport: z.string().optional(),
  tls: anyMap.optional(),
  max_recv_msg_size_mib: z.number().int().min(0).optional(),
  max_concurrent_streams: z.number().int().min(0).optional(),
  read_buffer_size: z.number().int().min(0).optional(),
  write_buffer_size: z.number().int().min(0).optional(),
  keepalive: anyMap.optional(),
  include_metadata: z.boolean().optional(),
  auth: anyMap.optional(),
  middlewares: z.array(z.unknown()).optional(),
});

export const configSchema = z.strictObject({
  storage: z.strictObject({
    /** The `jaeger_storage` backend the API reads. */
    traces: z.string(),
    /** A backend consulted for trace ids not found in `traces` (Jaeger's archive). */
    traces_archive: z.string().optional(),
    /** Jaeger's metrics storage (SPM): accepted, not used. */
    metrics: z.string().optional(),
  }),
  /** Early Jaeger v2 spellings of storage.traces / storage.traces_archive (still accepted). */
  trace_storage: z.string().optional(),
  trace_storage_archive: z.string().optional(),
  /** Prefix of every route (API and UI), e.g. `/jaeger`. */
  base_path: z.string(),
  ui: z.strictObject({
    /** A JSON file given to the UI as `window.__SKUA_UI_CONFIG__`. */
    config_file: z.string().optional(),
    /** Serve the UI from this directory instead of the built-in ui/dist. */
    assets_path: z.string().optional(),
    /** Log every static-file request. */
    log_access: z.boolean().optional(),
  }),
  bearer_token_propagation: z.boolean().optional(),
  multi_tenancy: z
    .strictObject({
      enabled: z.boolean().optional(),
      /** The header carrying the tenant (default x-tenant). */
      header: z.string().min(1).optional(),
      /** Allowed tenants; empty allows any. */
      tenants: z.array(z.string()).optional(),
    })
    .optional(),
  /** Largest clock-skew correction; 0 (default) only reports skew as span warnings, as in Jaeger. */
  max_clock_skew_adjust: z.union([duration(), z.number().int().min(0)]),
  /** Spans per trace above which a trace is truncated (with a warning); 0 = unlimited. */
  max_trace_size: z.number().int().min(0).optional(),
  /** Jaeger traces its own query service; accepted, not done. */
  enable_tracing: z.boolean().optional(),
  http: httpServer,
  /** Jaeger's gRPC query API: accepted, not served (a warning is logged). */
  grpc: grpcServer,
});

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return {
    storage: { traces: '' },
    base_path: '/',
    ui: {},
    max_clock_skew_adjust: '0s',
    http: { endpoint: 'localhost:16686' },
    grpc: { endpoint: 'localhost:16685' },
  };
}

export function validate(cfg: Config): string[] {
  const errs: string[] = [];
  if (tracesStorage(cfg) === '') errs.push('storage::traces is required: the name of a jaeger_storage backend');
  const bp = cfg.base_path;
  if (bp !== '' && bp !== '/') {
    if (!bp.startsWith('/')) errs.push(`base_path "${bp}" must start with "/"`);
    else if (/\/\/|\/\.\.?(\/|$)/.test(bp.replace(/\/$/, ''))) errs.push(`base_path "${bp}" must not contain empty, "." or ".." segments`);
    else if (/[?#\s]/.test(bp)) errs.push(`base_path "${bp}" must not contain "?", "#" or whitespace`);
  }
  if (cfg.http.tls && Object.keys(cfg.http.tls).length > 0) {
    errs.push('http::tls is not supported yet: terminate TLS in front of Skua (the query API would otherwise be served without TLS)');
  }
  if (cfg.http.auth && Object.keys(cfg.http.auth).length > 0) {
    errs.push('http::auth is not supported yet: put an authenticating proxy in front of Skua (the query API would otherwise be open)');
  }
  if (cfg.multi_tenancy?.enabled && cfg.multi_tenancy.tenants?.some((t) => t.trim() === '')) errs.push('multi_tenancy::tenants must not contain empty names');
  return errs;
}

/** The backend the API reads (storage.traces, or the early spelling trace_storage). */
export function tracesStorage(cfg: Config): string {
  return (cfg.storage.traces.trim() || cfg.trace_storage?.trim()) ?? '';
}

/** The archive backend, if any. */
export function archiveStorage(cfg: Config): string | undefined {
  return cfg.storage.traces_archive?.trim() || cfg.trace_storage_archive?.trim() || undefined;
}

/** max_clock_skew_adjust in nanoseconds (YAML gives a Go duration string or integer nanoseconds). */
export function maxClockSkewNanos(cfg: Config): bigint {
  const v = cfg.max_clock_skew_adjust;
  if (typeof v === 'number') return BigInt(v);
  return BigInt(Math.round((parseDuration(v) ?? 0) * 1e6));
}

/** Settings that are accepted for compatibility but have no effect, for a start-up warning. */
export function unsupportedSettings(cfg: Config): string[] {
  const out: string[] = [];
  const set = (v: unknown) => v !== undefined && v !== null && v !== false && !(typeof v === 'object' && Object.keys(v as object).length === 0);
  const def = createDefaultConfig();
  if (cfg.grpc.endpoint !== def.grpc.endpoint || Object.keys(cfg.grpc).length > 1) out.push(`grpc (the gRPC query API is not served; ${cfg.grpc.endpoint} stays closed)`);
  if (set(cfg.storage.metrics)) out.push('storage::metrics (service performance monitoring)');
  if (set(cfg.enable_tracing)) out.push('enable_tracing');
  if (set(cfg.bearer_token_propagation)) out.push('bearer_token_propagation');
  const h = cfg.http;
  for (const k of ['transport', 'cors', 'include_metadata', 'max_request_body_size', 'compression_algorithms', 'middlewares'] as const) {
    if (set(h[k])) out.push(`http::${k}`);
  }
  return out;
}
