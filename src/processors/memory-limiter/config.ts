import { z } from 'zod';
import { duration, parseDuration } from '../../confmap/schema.js';

/** `processors: memory_limiter:` — the Collector's settings. */
export const configSchema = z.strictObject({
  /** How often memory is measured (the Collector recommends 1s). */
  check_interval: duration(),
  /** Hard limit in MiB; the soft limit is limit_mib - spike_limit_mib. */
  limit_mib: z.number().int().min(0),
  /** Headroom below the hard limit; default 20% of limit_mib. */
  spike_limit_mib: z.number().int().min(0),
  /** Hard limit as a percentage of the memory available (cgroup limit or physical memory). */
  limit_percentage: z.number().int().min(0).max(100),
  spike_limit_percentage: z.number().int().min(0).max(100),
  /** Go GC pacing in the Collector; used here only when Node runs with --expose-gc. */
  min_gc_interval_when_soft_limited: duration().optional(),
  min_gc_interval_when_hard_limited: duration().optional(),
});

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return { check_interval: '1s', limit_mib: 0, spike_limit_mib: 0, limit_percentage: 0, spike_limit_percentage: 0 };
}

export function validate(cfg: Config): string[] {
  const errs: string[] = [];
  if (!((parseDuration(cfg.check_interval) ?? 0) > 0)) errs.push('check_interval must be greater than zero');
  if (cfg.limit_mib === 0 && cfg.limit_percentage === 0) errs.push('limit_mib or limit_percentage must be greater than zero');
  if (cfg.limit_mib > 0) {
    if (cfg.limit_percentage > 0) errs.push('set either limit_mib or limit_percentage, not both');
    if (cfg.spike_limit_mib >= cfg.limit_mib) errs.push(`spike_limit_mib (${cfg.spike_limit_mib}) must be smaller than limit_mib (${cfg.limit_mib})`);
  }
  if (cfg.limit_percentage > 0 && cfg.spike_limit_percentage >= cfg.limit_percentage) {
    errs.push(`spike_limit_percentage (${cfg.spike_limit_percentage}) must be smaller than limit_percentage (${cfg.limit_percentage})`);
  }
  return errs;
}
