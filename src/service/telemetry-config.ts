/**
 * `service.telemetry`, in the Collector's shape (and Jaeger v2's older forms):
 *
 *   telemetry:
 *     resource: {service.name: skua}          # accepted (Jaeger writes it)
 *     logs: {level: info, encoding: json|console}
 *     metrics:
 *       level: none|basic|normal|detailed     # none turns the endpoint off
 *       readers:
 *         - pull: {exporter: {prometheus: {host: localhost, port: 8888}}}
 *       address: localhost:8888               # the Collector's older form, as Jaeger v2 writes it
 */
import { z } from 'zod';
import { parseEndpoint } from '../confmap/schema.js';

const logLevels = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'] as const;

const prometheusSchema = z.strictObject({
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  without_scope_info: z.boolean().optional(),
  without_type_suffix: z.boolean().optional(),
  without_units: z.boolean().optional(),
  with_resource_constant_labels: z.unknown().optional(),
});

const readerSchema = z.strictObject({
  pull: z
    .strictObject({
      exporter: z.strictObject({ prometheus: prometheusSchema }),
    })
    .optional(),
  periodic: z.unknown().optional(),
});

export const telemetrySchema = z.strictObject({
  resource: z.record(z.string(), z.union([z.string(), z.null()])).optional(),
  logs: z
    .strictObject({
      level: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(logLevels))
        .optional(),
      encoding: z.enum(['json', 'console']).optional(),
      // Accepted for compatibility with Collector configs; Skua logs JSON to stdout.
      development: z.boolean().optional(),
      disable_caller: z.boolean().optional(),
      disable_stacktrace: z.boolean().optional(),
      sampling: z.unknown().optional(),
      output_paths: z.array(z.string()).optional(),
      error_output_paths: z.array(z.string()).optional(),
      initial_fields: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  metrics: z
    .strictObject({
      level: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['none', 'basic', 'normal', 'detailed']))
        .optional(),
      address: z
        .string()
        .check(z.refine((s) => parseEndpoint(s) !== undefined, { message: 'expected host:port (e.g. "localhost:8888")' }))
        .optional(),
      readers: z.array(readerSchema).optional(),
    })
    .optional(),
  // The Collector's own tracing: accepted, not used (Skua does not trace itself yet).
  traces: z.unknown().optional(),
});

export type TelemetryYaml = z.infer<typeof telemetrySchema>;

export interface MetricsEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface TelemetryConfig {
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** undefined = decide by stdout (pretty on a terminal, JSON otherwise). */
  readonly logEncoding: 'json' | 'console' | undefined;
  /** Prometheus pull endpoints serving the self-metrics (empty when metrics.level is none). */
  readonly metricsEndpoints: readonly MetricsEndpoint[];
  readonly resource: Readonly<Record<string, string>>;
  /** Settings that were accepted but have no effect, for a startup warning. */
  readonly ignored: readonly string[];
}

export const defaultMetricsEndpoint: MetricsEndpoint = { host: 'localhost', port: 8888 };

/** Interprets a schema-checked `service.telemetry`. Returns messages (with their relative paths) for what it cannot honour. */
export function interpretTelemetry(t: TelemetryYaml | undefined): { config: TelemetryConfig; errors: { path: (string | number)[]; message: string }[] } {
  const errors: { path: (string | number)[]; message: string }[] = [];
  const ignored: string[] = [];
  const lvl = t?.logs?.level ?? 'info';
  const logLevel = lvl === 'dpanic' || lvl === 'panic' ? 'error' : lvl;
  for (const k of ['development', 'disable_caller', 'disable_stacktrace', 'sampling', 'output_paths', 'error_output_paths', 'initial_fields'] as const) {
    if (t?.logs?.[k] !== undefined) ignored.push(`service::telemetry::logs::${k}`);
  }
  if (t?.traces !== undefined) ignored.push('service::telemetry::traces');

  let metricsEndpoints: MetricsEndpoint[] = [];
  const m = t?.metrics;
  if (m?.level !== 'none') {
    if (m?.readers && m.readers.length > 0) {
      m.readers.forEach((r, i) => {
        if (r.periodic !== undefined) {
          errors.push({
            path: ['service', 'telemetry', 'metrics', 'readers', i, 'periodic'],
            message: 'periodic (push) metric readers are not supported; use pull: {exporter: {prometheus: {host, port}}}',
          });
        }
        const p = r.pull?.exporter.prometheus;
        if (p) metricsEndpoints.push({ host: p.host ?? defaultMetricsEndpoint.host, port: p.port ?? defaultMetricsEndpoint.port });
        else if (r.periodic === undefined) {
          errors.push({ path: ['service', 'telemetry', 'metrics', 'readers', i], message: 'a reader needs pull: {exporter: {prometheus: {host, port}}}' });
        }
      });
    } else if (m?.address !== undefined) {
      const hp = parseEndpoint(m.address)!;
      metricsEndpoints = [{ host: hp.host, port: hp.port }];
    } else {
      metricsEndpoints = [defaultMetricsEndpoint];
    }
  }
  const resource: Record<string, string> = {};
  for (const [k, v] of Object.entries(t?.resource ?? {})) if (v !== null) resource[k] = v;
  return {
    config: { logLevel, logEncoding: t?.logs?.encoding, metricsEndpoints, resource, ignored },
    errors,
  };
}
