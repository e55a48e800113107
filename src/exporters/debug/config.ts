import { z } from 'zod';

/** `exporters: debug:` — the Collector's debug exporter settings. */
export const configSchema = z.strictObject({
  /** basic: one line per batch; normal: one line per span; detailed: every field of every span. */
  verbosity: z.enum(['basic', 'normal', 'detailed']),
  /** Log messages per second logged in full before sampling starts. */
  sampling_initial: z.number().int().min(0),
  /** After sampling_initial, log one message in this many (per second). */
  sampling_thereafter: z.number().int().min(1),
  /** Accepted for Collector compatibility; Skua always logs through its own logger. */
  use_internal_logger: z.boolean().optional(),
});

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return { verbosity: 'basic', sampling_initial: 2, sampling_thereafter: 1 };
}
