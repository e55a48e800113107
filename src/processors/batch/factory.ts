import type { ProcessorFactory } from '../../component/factory.js';
import { BatchProcessor } from './batch.js';
import { configSchema, createDefaultConfig, validate, type Config } from './config.js';

export const factory: ProcessorFactory<Config> = {
  type: 'batch',
  kind: 'processor',
  stability: 'beta',
  description: 'Groups spans into larger batches per tenant; errors and backpressure reach the sender',
  configSchema,
  createDefaultConfig,
  validate,
  createTraces: (settings, cfg, next) => new BatchProcessor(settings, cfg, next),
};
