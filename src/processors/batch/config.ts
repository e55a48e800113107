import { z } from 'zod';
import { duration } from '../../confmap/schema.js';

/**
 * `processors: batch:` — the Collector's batch processor settings, plus two of Skua's that bound
 * what it holds (backpressure instead of an unbounded buffer).
 */
export const configSchema = z.strictObject({
  /** Spans that trigger a send, regardless of `timeout`; 0 = only the timeout sends. */
  send_batch_size: z.number().int().min(0),
  /** Upper bound of a sent batch; larger batches are split. 0 = no limit. */
  send_batch_max_size: z.number().int().min(0),
  /** Time after the first span of a batch after which it is sent regardless of size; 0 = immediately. */
  timeout: duration(),
  /**
   * Skua: spans held (buffered or being exported) above which new data is refused with a retryable
   * error (HTTP 503 / gRPC UNAVAILABLE). 0 = 4 × max(send_batch_size, send_batch_max_size), at least 4096.
   */
  max_pending_spans: z.number().int().min(0),
  /** Skua: exports running at once; further batches wait (and count as pending). */
  max_concurrent_exports: z.number().int().min(1),
  /** Collector settings for batching by request metadata; only tenant separation is done (always). */
  metadata_keys: z.array(z.string()).max(0, { message: 'metadata_keys is not supported (data is always batched per tenant)' }).optional(),
  metadata_cardinality_limit: z.number().int().min(0).optional(),
});

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return {
    send_batch_size: 8192,
    send_batch_max_size: 0,
    timeout: '200ms',
    max_pending_spans: 0,
    max_concurrent_exports: 2,
  };
}

export function validate(cfg: Config): string[] {
  const errs: string[] = [];
  if (cfg.send_batch_max_size > 0 && cfg.send_batch_max_size < cfg.send_batch_size) {
    errs.push(`send_batch_max_size (${cfg.send_batch_max_size}) must be greater than or equal to send_batch_size (${cfg.send_batch_size})`);
  }
  return errs;
}

/** The effective bound on held spans. */
export function maxPending(cfg: Config): number {
  if (cfg.max_pending_spans > 0) return cfg.max_pending_spans;
  return Math.max(4096, 4 * Math.max(cfg.send_batch_size, cfg.send_batch_max_size));
}
