/**
 * The batch processor. Data is grouped per tenant and sent downstream when `send_batch_size` spans
 * are waiting or `timeout` after the first one arrived, merged with `Traces.merge` (no copying) and,
 * when `send_batch_max_size` is set, split into batches no larger than that.
 *
 * Unlike the Collector's, it hides nothing from the sender:
 * - each caller's promise settles with the outcome of the export(s) that carry its data — it
 *   resolves only once that data has been accepted downstream and rejects with the downstream
 *   error otherwise (so an OTLP client gets its 503/400, not a 200 for data that was then lost);
 * - what it holds is bounded: when more than `max_pending_spans` spans are buffered or being
 *   exported (a slow exporter), new data is refused with a RetryableError.
 * Shutdown sends everything held and waits for those exports.
 */
import type { CreateSettings, Host } from '../../component/component.js';
import type { ConsumeContext, TracesConsumer } from '../../component/consumer.js';
import { RetryableError, errorMessage } from '../../component/errors.js';
import type { Processor } from '../../component/factory.js';
import type { ResourceSpans, ScopeSpans, Span } from '../../pdata/model.js';
import { Traces } from '../../pdata/traces.js';
import { durationMs } from '../../confmap/schema.js';
import { maxPending, type Config } from './config.js';

/** One caller waiting for the exports that carry its data. */
interface Waiter {
  remaining: number;
  failure: unknown;
  failed: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Item {
  readonly td: Traces;
  readonly waiter: Waiter;
}

interface TenantBatch {
  items: Item[];
  spans: number;
  timer: NodeJS.Timeout | undefined;
}

interface Chunk {
  readonly tenant: string;
  readonly tds: Traces[];
  readonly waiters: Set<Waiter>;
  readonly spans: number;
}

export class BatchProcessor implements Processor {
  private readonly batches = new Map<string, TenantBatch>();
  private readonly queue: Chunk[] = [];
  private running = 0;
  /** Spans buffered, queued or being exported. */
  private pending = 0;
  private readonly timeoutMs: number;
  private readonly limit: number;
  private readonly name: string;
  private stopping = false;
  /** Shutdown has begun upstream: send every batch at once instead of waiting for its timer. */
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: Config,
    private readonly next: TracesConsumer,
  ) {
    this.timeoutMs = durationMs(cfg.timeout);
    this.limit = maxPending(cfg);
    this.name = settings.id.toString();
  }

  async start(_host: Host): Promise<void> {}

  /** Spans held right now (for tests and diagnostics). */
  get pendingSpans(): number {
    return this.pending;
  }

  consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void> {
    const n = td.spanCount;
    const m = this.settings.telemetry.metrics;
    m.processorIncomingItems.inc({ processor: this.name, otel_signal: 'traces' }, n);
    if (n === 0) return Promise.resolve();
    if (this.stopping) {
      // Receivers are stopped before processors; anything arriving late is passed straight on.
      m.processorOutgoingItems.inc({ processor: this.name, otel_signal: 'traces' }, n);
      return this.next.consumeTraces(td, ctx);
    }
    if (this.pending > 0 && this.pending + n > this.limit) {
      const err = new RetryableError(
        `batch processor "${this.name}" is full: ${this.pending} spans are waiting to be exported (max_pending_spans ${this.limit})`,
        { retryAfterMs: Math.max(1000, this.timeoutMs) },
      );
      m.dropped('backpressure', `processor/${this.name}`, n, err);
      return Promise.reject(err);
    }
    this.pending += n;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { remaining: 0, failure: undefined, failed: false, resolve, reject };
      const tenant = ctx.tenant;
      let b = this.batches.get(tenant);
      if (!b) {
        b = { items: [], spans: 0, timer: undefined };
        this.batches.set(tenant, b);
      }
      b.items.push({ td, waiter });
      b.spans += n;
      if (this.draining || this.timeoutMs === 0 || (this.cfg.send_batch_size > 0 && b.spans >= this.cfg.send_batch_size)) {
        this.flush(tenant);
      } else if (!b.timer) {
        b.timer = setTimeout(() => this.flush(tenant), this.timeoutMs);
      }
    });
  }

  /** Sends what a tenant has buffered. */
  private flush(tenant: string): void {
    const b = this.batches.get(tenant);
    if (!b) return;
    this.batches.delete(tenant);
    if (b.timer) clearTimeout(b.timer);
    const chunks = this.split(tenant, b.items);
    for (const c of chunks) for (const w of c.waiters) w.remaining++;
    for (const c of chunks) this.queue.push(c);
    this.pump();
  }

  /** Packs items into chunks of at most send_batch_max_size spans (whole requests where they fit). */
  private split(tenant: string, items: Item[]): Chunk[] {
    const max = this.cfg.send_batch_max_size;
    if (max <= 0) {
      let spans = 0;
      for (const it of items) spans += it.td.spanCount;
      return [{ tenant, tds: items.map((i) => i.td), waiters: new Set(items.map((i) => i.waiter)), spans }];
    }
    const out: Chunk[] = [];
    let cur: { tds: Traces[]; waiters: Set<Waiter>; spans: number } = { tds: [], waiters: new Set(), spans: 0 };
    const close = () => {
      if (cur.spans > 0) out.push({ tenant, ...cur });
      cur = { tds: [], waiters: new Set(), spans: 0 };
    };
    for (const it of items) {
      const pieces = it.td.spanCount > max ? splitTraces(it.td, max) : [it.td];
      for (const p of pieces) {
        if (cur.spans + p.spanCount > max) close();
        cur.tds.push(p);
        cur.waiters.add(it.waiter);
        cur.spans += p.spanCount;
      }
    }
    close();
    return out;
  }

  private pump(): void {
    while (this.running < this.cfg.max_concurrent_exports && this.queue.length > 0) {
      const c = this.queue.shift()!;
      this.running++;
      void this.export(c);
    }
  }

  private async export(c: Chunk): Promise<void> {
    const m = this.settings.telemetry.metrics;
    let failure: unknown;
    let failed = false;
    try {
      m.processorOutgoingItems.inc({ processor: this.name, otel_signal: 'traces' }, c.spans);
      await this.next.consumeTraces(Traces.merge(c.tds), { tenant: c.tenant });
    } catch (err) {
      failed = true;
      failure = err;
      this.settings.telemetry.logger.debug({ err: errorMessage(err), spans: c.spans }, 'batch export failed; the senders get the error');
    }
    this.running--;
    this.pending -= c.spans;
    for (const w of c.waiters) {
      if (failed && !w.failed) {
        w.failed = true;
        w.failure = failure;
      }
      if (--w.remaining === 0) {
        if (w.failed) w.reject(w.failure);
        else w.resolve();
      }
    }
    this.pump();
    if (this.pending === 0 && this.running === 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of ws) r();
    }
  }

  drain(): void {
    this.draining = true;
    for (const tenant of [...this.batches.keys()]) this.flush(tenant);
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.stopping = true;
      for (const tenant of [...this.batches.keys()]) this.flush(tenant);
      if (this.pending > 0 || this.running > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    })();
    return this.shutdownPromise;
  }
}

/**
 * Splits one Traces into pieces of at most `max` spans, keeping each span with its resource and
 * scope. Only requests larger than send_batch_max_size are split, so materialising the object
 * model here is rare.
 */
export function splitTraces(td: Traces, max: number): Traces[] {
  const out: Traces[] = [];
  let cur: ResourceSpans[] = [];
  let n = 0;
  const close = () => {
    if (n > 0) out.push(Traces.fromResourceSpans(cur));
    cur = [];
    n = 0;
  };
  for (const rs of td.resourceSpans()) {
    for (const ss of rs.scopeSpans) {
      let i = 0;
      while (i < ss.spans.length) {
        if (n === max) close();
        const take = Math.min(max - n, ss.spans.length - i);
        const spans: Span[] = ss.spans.slice(i, i + take);
        const scope: ScopeSpans = { scope: ss.scope, schemaUrl: ss.schemaUrl, spans };
        const last = cur[cur.length - 1];
        if (last && last.resource === rs.resource) (last.scopeSpans as ScopeSpans[]).push(scope);
        else cur.push({ resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [scope] });
        n += take;
        i += take;
      }
    }
  }
  close();
  return out;
}
