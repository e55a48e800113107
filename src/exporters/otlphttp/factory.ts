import type { ExporterFactory } from '../../component/factory.js';
import { configSchema, createDefaultConfig, validate, type Config } from './config.js';
import { OtlpHttpExporter } from './exporter.js';

export const factory: ExporterFactory<Config> = {
  type: 'otlphttp',
  kind: 'exporter',
  stability: 'alpha',
  description: 'Forwards spans over OTLP/HTTP (protobuf or JSON) to another Skua or Collector',
  configSchema,
  createDefaultConfig,
  validate,
  createTraces: (settings, cfg) => new OtlpHttpExporter(settings, cfg),
};
