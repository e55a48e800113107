import type { ProcessorFactory } from '../../component/factory.js';
import { configSchema, createDefaultConfig, validate, type Config } from './config.js';
import { MemoryLimiterProcessor } from './memory-limiter.js';

export const factory: ProcessorFactory<Config> = {
  type: 'memory_limiter',
  kind: 'processor',
  stability: 'beta',
  description: 'Refuses data with a retryable error (HTTP 503 / gRPC UNAVAILABLE) while memory is above the soft limit',
  configSchema,
  createDefaultConfig,
  validate,
  createTraces: (settings, cfg, next) => new MemoryLimiterProcessor(settings, cfg, next),
};
