import { z } from 'zod';
import { clone, isMap, mergeOverDefaults } from '../../confmap/merge.js';
import { duration, endpoint } from '../../confmap/schema.js';

const pathSchema = z.string().check(z.refine((s) => s.startsWith('/'), { message: 'path must start with /' }));

const responseBody = z.strictObject({ healthy: z.string().optional(), unhealthy: z.string().optional() });
/** Deprecated and ignored by the Collector too; accepted so existing configs load. */
const checkCollectorPipeline = z.strictObject({
  enabled: z.boolean().optional(),
  interval: duration().optional(),
  exporter_failure_threshold: z.number().int().optional(),
});

/** `extensions: health_check:` — the Collector's (v1) health check. */
export const legacySchema = z.strictObject({
  endpoint: endpoint(),
  path: pathSchema,
  response_body: responseBody.optional(),
  check_collector_pipeline: checkCollectorPipeline.optional(),
});
export type LegacyConfig = z.infer<typeof legacySchema>;

export function createLegacyDefaultConfig(): LegacyConfig {
  return { endpoint: 'localhost:13133', path: '/' };
}

const pathConfig = z.strictObject({ enabled: z.boolean(), path: pathSchema });

/**
 * `extensions: healthcheckv2:` — as the Collector-contrib extension that Jaeger v2 uses. With
 * `use_v2: true` the `http` (and `grpc`) services are served, each only when its key is written
 * (`grpc:` with no value means "with defaults", as Jaeger's all-in-one writes it); without it,
 * the legacy `endpoint`/`path` settings apply.
 */
export const v2Schema = z.strictObject({
  endpoint: endpoint(),
  path: pathSchema,
  response_body: responseBody.optional(),
  check_collector_pipeline: checkCollectorPipeline.optional(),
  use_v2: z.boolean(),
  http: z
    .strictObject({
      endpoint: endpoint(),
      status: pathConfig,
      config: pathConfig,
    })
    .optional(),
  grpc: z
    .strictObject({
      endpoint: endpoint(),
      transport: z.enum(['tcp']),
    })
    .optional(),
  component_health: z
    .strictObject({
      include_permanent_errors: z.boolean(),
      include_recoverable_errors: z.boolean(),
      recovery_duration: duration(),
    })
    .optional(),
});
export type V2Config = z.infer<typeof v2Schema>;

export function createV2DefaultConfig(): V2Config {
  return {
    endpoint: 'localhost:13133',
    path: '/',
    use_v2: false,
    http: { endpoint: 'localhost:13133', status: { enabled: true, path: '/status' }, config: { enabled: false, path: '/config' } },
    grpc: { endpoint: 'localhost:13132', transport: 'tcp' },
    component_health: { include_permanent_errors: false, include_recoverable_errors: false, recovery_duration: '5m' },
  };
}

/** Keeps `http` / `grpc` only when the user wrote the key (as the Collector's Unmarshal does). */
export function unmarshalV2(raw: unknown, defaults: V2Config): unknown {
  const user = isMap(raw) ? raw : {};
  const merged = mergeOverDefaults(defaults, user) as Record<string, unknown>;
  for (const k of ['http', 'grpc'] as const) {
    if (!(k in user)) delete merged[k];
    else if (user[k] === null) merged[k] = clone(defaults[k]);
  }
  return merged;
}

export function validateV2(cfg: V2Config): string[] {
  if (cfg.use_v2 && !cfg.http && !cfg.grpc) return ['with use_v2: true, at least one of http or grpc must be configured'];
  return [];
}
