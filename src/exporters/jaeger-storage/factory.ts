import type { ExporterFactory } from '../../component/factory.js';
import { configSchema, createDefaultConfig, validate, type Config } from './config.js';
import { StorageExporter } from './exporter.js';

export const factory: ExporterFactory<Config> = {
  type: 'jaeger_storage_exporter',
  kind: 'exporter',
  stability: 'beta',
  description: 'Writes spans to a backend of the jaeger_storage extension (trace_storage: NAME)',
  configSchema,
  createDefaultConfig,
  validate,
  createTraces: (settings, cfg) => new StorageExporter(settings, cfg),
};
