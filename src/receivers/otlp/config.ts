import { z } from 'zod';
import { endpoint } from '../../confmap/schema.js';
import { isMap, mergeOverDefaults } from '../../confmap/merge.js';

/** `protocols.grpc`, as the Collector's configgrpc server settings (the subset Skua supports). */
export interface GrpcConfig {
  /** host:port to listen on. */
  endpoint: string;
  /** Largest accepted message, in MiB. */
  max_recv_msg_size_mib: number;
}

/** `protocols.http.cors`, as confighttp's CORS settings. */
export interface CorsConfig {
  /** Origins allowed to send (`*` wildcards allowed, e.g. `https://*.example.com`); empty = CORS off. */
  allowed_origins: string[];
  /** Extra request headers allowed besides the safelisted ones. `*` allows any. */
  allowed_headers: string[];
  /** Seconds a preflight response may be cached; 0 = not sent. */
  max_age: number;
}

export interface HttpConfig {
  endpoint: string;
  traces_url_path: string;
  /** Largest accepted body in bytes, compressed and decompressed (confighttp's default: 20 MiB). */
  max_request_body_size: number;
  cors: CorsConfig;
}

/** What the user writes under `receivers: otlp:`. Only the protocols written are enabled. */
export interface Config {
  protocols: {
    grpc?: GrpcConfig;
    http?: HttpConfig;
  };
}

const grpcSchema = z.strictObject({
  endpoint: endpoint(),
  max_recv_msg_size_mib: z.number().positive(),
});

const corsSchema = z.strictObject({
  allowed_origins: z.array(z.string()),
  allowed_headers: z.array(z.string()),
  max_age: z.number().int().nonnegative(),
});

const httpSchema = z.strictObject({
  endpoint: endpoint(),
  traces_url_path: z.string().min(1),
  max_request_body_size: z.number().int().positive(),
  cors: corsSchema,
});

export const configSchema: z.ZodType<Config> = z.strictObject({
  protocols: z.strictObject({
    grpc: grpcSchema.optional(),
    http: httpSchema.optional(),
  }),
});

export function createDefaultConfig(): Config {
  return {
    protocols: {
      grpc: { endpoint: 'localhost:4317', max_recv_msg_size_mib: 4 },
      http: {
        endpoint: 'localhost:4318',
        traces_url_path: '/v1/traces',
        max_request_body_size: 20 * 1024 * 1024,
        cors: { allowed_origins: [], allowed_headers: [], max_age: 0 },
      },
    },
  };
}

/**
 * Builds the config from what the user wrote: a protocol is enabled only when its key is present
 * (`grpc:` with an empty value enables it with defaults), as in the Collector. Other keys pass
 * through to the strict schema, which reports them with their path.
 */
export function unmarshal(raw: unknown, defaults: Config): unknown {
  if (raw === null || raw === undefined) return { protocols: {} };
  if (!isMap(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  const p = raw.protocols;
  if (p === null || p === undefined) out.protocols = {};
  else if (isMap(p)) {
    const protocols: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) {
      if (k === 'grpc') protocols[k] = mergeOverDefaults(defaults.protocols.grpc, v);
      else if (k === 'http') protocols[k] = mergeOverDefaults(defaults.protocols.http, v);
      else protocols[k] = v;
    }
    out.protocols = protocols;
  }
  return out;
}

export function validate(cfg: Config): string[] {
  const errors: string[] = [];
  if (!cfg.protocols.grpc && !cfg.protocols.http) {
    errors.push('must specify at least one protocol (protocols::grpc or protocols::http) when using the OTLP receiver');
  }
  const g = cfg.protocols.grpc;
  const h = cfg.protocols.http;
  if (g && h && g.endpoint === h.endpoint) errors.push(`protocols::grpc::endpoint and protocols::http::endpoint are both ${g.endpoint}: they need different ports`);
  return errors;
}

/** `traces_url_path` with a leading slash, as the Collector sanitises it. */
export function tracesPath(h: HttpConfig): string {
  return h.traces_url_path.startsWith('/') ? h.traces_url_path : `/${h.traces_url_path}`;
}
