import type { ExporterFactory } from '../../component/factory.js';
import { configSchema, createDefaultConfig, type Config } from './config.js';
import { DebugExporter } from './debug.js';

export const factory: ExporterFactory<Config> = {
  type: 'debug',
  kind: 'exporter',
  stability: 'development',
  description: 'Logs the spans it receives (verbosity: basic | normal | detailed)',
  configSchema,
  createDefaultConfig,
  createTraces: (settings, cfg) => new DebugExporter(settings, cfg),
};
