import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Skua's own metrics, with the OpenTelemetry Collector's names and labels so that existing
 * dashboards and alerts keep working. One instance per process (per service), served by the
 * Prometheus pull reader configured in `service.telemetry.metrics` (default :8888).
 *
 * Every span that is not delivered is counted once in `skua_dropped_spans{reason,component}`,
 * besides the Collector's refused/failed counters, so a lost span always has a reason.
 */
/** Errors whose spans were already counted in skua_dropped_spans (see SelfMetrics.dropped). */
const counted = new WeakSet<object>();

export class SelfMetrics {
  readonly registry = new Registry();
  readonly startedAt = Date.now();

  readonly receiverAcceptedSpans = new Counter({
    name: 'otelcol_receiver_accepted_spans',
    help: 'Number of spans successfully pushed into the pipeline.',
    labelNames: ['receiver', 'transport'] as const,
    registers: [this.registry],
  });
  readonly receiverRefusedSpans = new Counter({
    name: 'otelcol_receiver_refused_spans',
    help: 'Number of spans that could not be pushed into the pipeline.',
    labelNames: ['receiver', 'transport'] as const,
    registers: [this.registry],
  });
  readonly exporterSentSpans = new Counter({
    name: 'otelcol_exporter_sent_spans',
    help: 'Number of spans successfully sent to destination.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly exporterSendFailedSpans = new Counter({
    name: 'otelcol_exporter_send_failed_spans',
    help: 'Number of spans in failed attempts to send to destination.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly processorIncomingItems = new Counter({
    name: 'otelcol_processor_incoming_items',
    help: 'Number of items passed to the processor.',
    labelNames: ['processor', 'otel_signal'] as const,
    registers: [this.registry],
  });
  readonly processorOutgoingItems = new Counter({
    name: 'otelcol_processor_outgoing_items',
    help: 'Number of items emitted from the processor.',
    labelNames: ['processor', 'otel_signal'] as const,
    registers: [this.registry],
  });
  readonly droppedSpans = new Counter({
    name: 'skua_dropped_spans',
    help: 'Spans not delivered, by reason (invalid, refused_capacity, memory_limit, export_failed, evicted, shutdown...).',
    labelNames: ['reason', 'component'] as const,
    registers: [this.registry],
  });
  readonly processMemoryRss = new Gauge({
    name: 'otelcol_process_memory_rss',
    help: 'Total physical memory (resident set size) [bytes].',
    registers: [this.registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  /** Spans each storage backend accepted (acknowledged) and has not yet made readable, by backend. */
  private readonly storagePendingSources = new Map<string, () => number>();
  readonly storagePendingSpans = (() => {
    const sources = this.storagePendingSources;
    return new Gauge({
      name: 'skua_storage_pending_spans',
      help: 'Spans a storage backend accepted and has not yet inserted (the ClickHouse write-ahead spool and INSERTs in flight).',
      labelNames: ['backend'] as const,
      registers: [this.registry],
      collect() {
        for (const [backend, f] of sources) this.set({ backend }, f());
      },
    });
  })();
  readonly processUptime = new Counter({
    name: 'otelcol_process_uptime',
    help: 'Uptime of the process [seconds].',
    registers: [this.registry],
  });

  constructor() {
    const started = this.startedAt;
    const uptime = this.processUptime;
    // prom-client counters cannot "collect"; keep the uptime fresh at scrape time.
    const orig = this.registry.metrics.bind(this.registry);
    this.registry.metrics = async () => {
      const now = (Date.now() - started) / 1000;
      const cur = (await uptime.get()).values[0]?.value ?? 0;
      if (now > cur) uptime.inc(now - cur);
      return orig();
    };
    collectDefaultMetrics({ register: this.registry, prefix: 'skua_' });
  }

  /** Reports `pending()` as the backend's skua_storage_pending_spans; the returned function stops it. */
  storagePending(backend: string, pending: () => number): () => void {
    this.storagePendingSources.set(backend, pending);
    return () => {
      if (this.storagePendingSources.get(backend) === pending) {
        this.storagePendingSources.delete(backend);
        this.storagePendingSpans.remove({ backend });
      }
    };
  }

  /**
   * Counts dropped spans with their reason; n ≤ 0 is ignored. When the spans are refused with an
   * error that travels upstream (a processor or exporter refusing, the receiver answering the
   * sender), the component that knows the reason counts them and passes the error: it is marked,
   * and a later `dropped(..., err)` for the same error (e.g. the receiver's generic "refused") is
   * not counted again, so each span is counted once.
   */
  dropped(reason: string, component: string, n: number, err?: unknown): void {
    if (n <= 0) return;
    if (err !== null && typeof err === 'object') {
      if (counted.has(err)) return;
      counted.add(err);
    }
    this.droppedSpans.inc({ reason, component }, n);
  }
}
