import { z } from 'zod';
import { duration } from '../../confmap/schema.js';
import { retrySchema, defaultRetryConfig } from '../helper/retry.js';

/** `exporters: jaeger_storage_exporter:` — Jaeger v2's storage exporter settings. */
export const configSchema = z.strictObject({
  /** The backend, by its name under extensions::jaeger_storage::backends. */
  trace_storage: z.string().min(1, { message: 'required: the name of a backend under extensions::jaeger_storage::backends' }),
  retry_on_failure: retrySchema,
  /**
   * Jaeger's exporterhelper queue. Skua writes synchronously — the sender's request is answered
   * with the storage's outcome — so a queue that acknowledges on enqueue is refused; batching is
   * the batch processor's job.
   */
  queue: z
    .looseObject({ enabled: z.boolean().optional() })
    .optional(),
  /** Upper bound for one write; 0 = none. */
  timeout: duration().optional(),
});

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return { trace_storage: '', retry_on_failure: defaultRetryConfig() };
}

export function validate(cfg: Config): string[] {
  if (cfg.queue?.enabled === true) {
    return [
      'queue::enabled: true is not supported: Skua answers each sender with the storage write\'s outcome, so nothing is acknowledged before it is stored; use the batch processor to batch',
    ];
  }
  return [];
}
