import { z } from 'zod';
import type { StorageFactory } from '../api.js';
import { MemoryStore } from './memory.js';

/** `jaeger_storage.backends.NAME.memory`: what the user writes. */
export interface MemoryConfig {
  /** Traces kept per tenant; the oldest trace is evicted first. */
  max_traces: number;
}

export const configSchema: z.ZodType<MemoryConfig> = z.strictObject({
  max_traces: z.number().int().positive(),
});

export const factory: StorageFactory<MemoryConfig> = {
  type: 'memory',
  description: 'In-process store: a ring of the newest traces per tenant; lost on restart',
  configSchema,
  createDefaultConfig: () => ({ max_traces: 100_000 }),
  create: (cfg, telemetry) =>
    new MemoryStore({ maxTraces: cfg.max_traces, metrics: telemetry.metrics, component: `jaeger_storage/${telemetry.name}` }),
};
