import { z } from 'zod';
import { isPermanent } from '../../component/errors.js';
import { duration, durationMs } from '../../confmap/schema.js';

/** `retry_on_failure`, the Collector's exporterhelper settings (disabled by default, as Jaeger's exporter has it). */
export const retrySchema = z.strictObject({
  enabled: z.boolean(),
  initial_interval: duration(),
  randomization_factor: z.number().min(0).max(1),
  multiplier: z.number().min(1),
  max_interval: duration(),
  /** 0 = retry until shutdown. */
  max_elapsed_time: duration(),
});

export type RetryConfig = z.infer<typeof retrySchema>;

export function defaultRetryConfig(): RetryConfig {
  return {
    enabled: false,
    initial_interval: '5s',
    randomization_factor: 0.5,
    multiplier: 1.5,
    max_interval: '30s',
    max_elapsed_time: '5m',
  };
}

/**
 * Runs operations, retrying retryable failures with exponential backoff while `cfg.enabled`.
 * After `abort()` (shutdown) nothing is retried any more and waiting retries end at once with their
 * last error, which reaches the sender: an exporter answers its callers instead of holding the
 * process.
 */
export class Retrier {
  private aborted = false;
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly cfg: RetryConfig) {}

  abort(): void {
    this.aborted = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  async run<T>(op: () => Promise<T>): Promise<T> {
    const cfg = this.cfg;
    if (!cfg.enabled) return op();
    const start = Date.now();
    const maxElapsed = durationMs(cfg.max_elapsed_time);
    const maxInterval = durationMs(cfg.max_interval);
    let interval = durationMs(cfg.initial_interval);
    for (;;) {
      try {
        return await op();
      } catch (err) {
        if (isPermanent(err) || this.aborted) throw err;
        const jitter = interval * cfg.randomization_factor * (Math.random() * 2 - 1);
        const wait = Math.max(0, interval + jitter);
        if (maxElapsed > 0 && Date.now() - start + wait > maxElapsed) throw err;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(t);
            this.sleepers.delete(wake);
            resolve();
          };
          const t = setTimeout(wake, wait);
          this.sleepers.add(wake);
        });
        if (this.aborted) throw err;
        interval = Math.min(maxInterval, interval * cfg.multiplier);
      }
    }
  }
}
