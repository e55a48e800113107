/**
 * The memory limiter, as the Collector's: memory is measured every `check_interval`; while it is
 * above the soft limit (limit − spike) new data is refused with a RetryableError, which receivers
 * turn into HTTP 503 / gRPC UNAVAILABLE so that clients retry later instead of the process running
 * out of memory. Refused spans are counted in skua_dropped_spans{reason="memory_limit"}.
 *
 * "Memory" is what the process holds for data: V8 heap in use plus memory outside the heap
 * (Buffers, which is where received protobuf payloads live) — the closest Node has to the Go heap
 * size the Collector measures. RSS is not used: it shrinks late after a GC.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { CreateSettings, Host } from '../../component/component.js';
import type { ConsumeContext, TracesConsumer } from '../../component/consumer.js';
import { RetryableError } from '../../component/errors.js';
import type { Processor } from '../../component/factory.js';
import type { Traces } from '../../pdata/traces.js';
import { durationMs } from '../../confmap/schema.js';
import type { Config } from './config.js';

const MiB = 1024 * 1024;

export interface Limits {
  readonly hardBytes: number;
  readonly softBytes: number;
}

/** The memory available to this process: the cgroup limit when there is one, else physical memory. */
export function availableMemory(): number {
  const total = totalmem();
  for (const [file, parse] of [
    ['/sys/fs/cgroup/memory.max', (s: string) => (s.trim() === 'max' ? Infinity : Number(s))],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', (s: string) => Number(s)],
  ] as const) {
    try {
      const v = parse(readFileSync(file, 'utf8'));
      if (Number.isFinite(v) && v > 0 && v < total) return v;
    } catch {
      /* not in a cgroup with a limit */
    }
  }
  return total;
}

export function computeLimits(cfg: Config, available = availableMemory()): Limits {
  if (cfg.limit_mib > 0) {
    const hard = cfg.limit_mib * MiB;
    const spike = (cfg.spike_limit_mib > 0 ? cfg.spike_limit_mib : Math.floor(cfg.limit_mib / 5)) * MiB;
    return { hardBytes: hard, softBytes: hard - spike };
  }
  const hard = (available * cfg.limit_percentage) / 100;
  const spike = (available * (cfg.spike_limit_percentage > 0 ? cfg.spike_limit_percentage : cfg.limit_percentage / 5)) / 100;
  return { hardBytes: hard, softBytes: hard - spike };
}

/** Bytes the process holds for data (see the module comment). */
export function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

export class MemoryLimiterProcessor implements Processor {
  readonly limits: Limits;
  private refusing = false;
  private usage = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private lastGc = 0;
  private readonly name: string;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: Config,
    private readonly next: TracesConsumer,
  ) {
    this.limits = computeLimits(cfg);
    this.intervalMs = durationMs(cfg.check_interval);
    this.name = settings.id.toString();
  }

  async start(_host: Host): Promise<void> {
    this.settings.telemetry.logger.info(
      { limit_mib: Math.round(this.limits.hardBytes / MiB), soft_limit_mib: Math.round(this.limits.softBytes / MiB), check_interval: this.cfg.check_interval },
      'Memory limiter configured',
    );
    this.check();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  /** Whether data is being refused now. */
  get isRefusing(): boolean {
    return this.refusing;
  }

  /** Measures memory and updates the refusing state; runs every check_interval. */
  check(): void {
    this.usage = memoryInUse();
    const log = this.settings.telemetry.logger;
    if (this.usage >= this.limits.hardBytes) this.maybeGc(this.cfg.min_gc_interval_when_hard_limited);
    else if (this.usage >= this.limits.softBytes) this.maybeGc(this.cfg.min_gc_interval_when_soft_limited);
    const above = this.usage >= this.limits.softBytes;
    if (above && !this.refusing) {
      log.warn({ cur_mem_mib: Math.round(this.usage / MiB), soft_limit_mib: Math.round(this.limits.softBytes / MiB) }, 'Memory usage is above soft limit. Refusing data.');
    } else if (!above && this.refusing) {
      log.info({ cur_mem_mib: Math.round(this.usage / MiB) }, 'Memory usage back within limits. Resuming normal operation.');
    }
    this.refusing = above;
  }

  private maybeGc(minInterval: string | undefined): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc || minInterval === undefined) return;
    const now = Date.now();
    if (now - this.lastGc < durationMs(minInterval)) return;
    this.lastGc = now;
    gc();
    this.usage = memoryInUse();
  }

  consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void> {
    const m = this.settings.telemetry.metrics;
    const n = td.spanCount;
    m.processorIncomingItems.inc({ processor: this.name, otel_signal: 'traces' }, n);
    if (this.refusing) {
      const err = new RetryableError(
        `memory usage ${Math.round(this.usage / MiB)} MiB is above the soft limit of ${Math.round(this.limits.softBytes / MiB)} MiB (memory_limiter "${this.name}"); retry later`,
        { retryAfterMs: Math.max(1000, this.intervalMs) },
      );
      m.dropped('memory_limit', `processor/${this.name}`, n, err);
      return Promise.reject(err);
    }
    m.processorOutgoingItems.inc({ processor: this.name, otel_signal: 'traces' }, n);
    return this.next.consumeTraces(td, ctx);
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
