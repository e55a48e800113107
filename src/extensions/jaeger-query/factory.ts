import type { ExtensionFactory } from '../../component/factory.js';
import { configSchema, createDefaultConfig, validate, type Config } from './config.js';
import { JaegerQueryExtension } from './extension.js';

export const factory: ExtensionFactory<Config> = {
  type: 'jaeger_query',
  kind: 'extension',
  stability: 'beta',
  description: 'Jaeger query API (v1 JSON and v3 OTLP JSON) and the web UI over a jaeger_storage backend',
  configSchema,
  createDefaultConfig,
  validate,
  create: (settings, cfg) => new JaegerQueryExtension(settings, cfg),
};
