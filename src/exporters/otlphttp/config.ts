import { z } from 'zod';
import { duration } from '../../confmap/schema.js';
import { defaultRetryConfig, retrySchema } from '../helper/retry.js';

const url = z.string().check(
  z.refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, { message: 'expected an http:// or https:// URL' }),
);

/**
 * `exporters: otlphttp:` — the Collector's OTLP/HTTP exporter (traces only): forwards to another
 * Skua, a Collector, or any OTLP/HTTP endpoint. The sender is answered with the remote outcome.
 */
export const configSchema = z.strictObject({
  /** Base URL; traces go to `${endpoint}/v1/traces`. */
  endpoint: url.optional(),
  /** Full URL for traces, overriding `endpoint`. */
  traces_endpoint: url.optional(),
  headers: z.record(z.string(), z.string()),
  timeout: duration(),
  compression: z.enum(['gzip', 'none', '']),
  encoding: z.enum(['proto', 'json']),
  retry_on_failure: retrySchema,
  /** Only `enabled: false` is supported (see jaeger_storage_exporter's queue). */
  sending_queue: z.looseObject({ enabled: z.boolean().optional() }).optional(),
  tls: z.strictObject({ insecure: z.boolean().optional() }).optional(),
});

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return {
    headers: {},
    timeout: '30s',
    compression: 'gzip',
    encoding: 'proto',
    retry_on_failure: { ...defaultRetryConfig(), enabled: true },
  };
}

export function validate(cfg: Config): string[] {
  const errs: string[] = [];
  if (!cfg.endpoint && !cfg.traces_endpoint) errs.push('endpoint (or traces_endpoint) is required, e.g. endpoint: http://collector:4318');
  if (cfg.sending_queue?.enabled === true) {
    errs.push('sending_queue::enabled: true is not supported: Skua answers each sender with the remote outcome; use the batch processor to batch');
  }
  return errs;
}

export function tracesUrl(cfg: Config): string {
  if (cfg.traces_endpoint) return cfg.traces_endpoint;
  return `${cfg.endpoint!.replace(/\/+$/, '')}/v1/traces`;
}
