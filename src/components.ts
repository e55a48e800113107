/**
 * The registry of every component type Skua ships, by kind. Add a line here when a component
 * folder gains a factory.ts; `skua components` lists exactly this.
 */
import type { AnyFactory } from './component/factory.js';
import { factory as debugExporter } from './exporters/debug/factory.js';
import { factory as storageExporter } from './exporters/jaeger-storage/factory.js';
import { factory as otlpHttpExporter } from './exporters/otlphttp/factory.js';
import { factory as healthcheckv2, legacyFactory as healthCheck } from './extensions/healthcheck/factory.js';
import { factory as jaegerQuery } from './extensions/jaeger-query/factory.js';
import { factory as jaegerStorage } from './extensions/jaeger-storage/factory.js';
import { factory as batch } from './processors/batch/factory.js';
import { factory as memoryLimiter } from './processors/memory-limiter/factory.js';
import { factory as otlpReceiver } from './receivers/otlp/factory.js';
import { makeFactories, type Factories } from './service/factories.js';

export const allFactories: readonly AnyFactory[] = [
  // receivers
  otlpReceiver,
  // processors
  batch,
  memoryLimiter,
  // exporters
  storageExporter,
  debugExporter,
  otlpHttpExporter,
  // extensions
  jaegerStorage,
  jaegerQuery,
  healthcheckv2,
  healthCheck,
];

let cached: Factories | undefined;

/** Every built-in component factory, by kind and type. */
export function components(): Factories {
  cached ??= makeFactories(allFactories);
  return cached;
}
