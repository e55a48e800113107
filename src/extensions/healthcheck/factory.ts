import type { ExtensionFactory } from '../../component/factory.js';
import {
  createLegacyDefaultConfig,
  createV2DefaultConfig,
  legacySchema,
  unmarshalV2,
  v2Schema,
  validateV2,
  type LegacyConfig,
  type V2Config,
} from './config.js';
import { HealthCheckExtension, legacySettings, v2Settings } from './healthcheck.js';

/** `healthcheckv2` (Jaeger v2's health extension: use_v2, http.endpoint, grpc, component_health). */
export const factory: ExtensionFactory<V2Config> = {
  type: 'healthcheckv2',
  kind: 'extension',
  stability: 'beta',
  description: 'Health status over HTTP (/status, default :13133) and gRPC grpc.health.v1 (default :13132)',
  configSchema: v2Schema,
  createDefaultConfig: createV2DefaultConfig,
  unmarshal: unmarshalV2,
  validate: validateV2,
  create: (settings, cfg) => new HealthCheckExtension(settings, v2Settings(cfg)),
};

/** `health_check` (the Collector's v1 extension: endpoint, path). */
export const legacyFactory: ExtensionFactory<LegacyConfig> = {
  type: 'health_check',
  kind: 'extension',
  stability: 'beta',
  description: 'Health status over HTTP at endpoint+path (default localhost:13133/), as the Collector\'s health_check',
  configSchema: legacySchema,
  createDefaultConfig: createLegacyDefaultConfig,
  create: (settings, cfg) => new HealthCheckExtension(settings, legacySettings(cfg)),
};
