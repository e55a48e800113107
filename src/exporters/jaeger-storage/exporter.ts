/**
 * Writes each batch through the `TraceStore` named by `trace_storage`, which it finds at start in
 * the `jaeger_storage` extension. The write's outcome is the caller's: success resolves (and counts
 * otelcol_exporter_sent_spans), failure rejects with the backend's error (counted in
 * otelcol_exporter_send_failed_spans and skua_dropped_spans{reason="export_failed"}) after the
 * optional retries.
 */
import type { CreateSettings, Host } from '../../component/component.js';
import type { ConsumeContext } from '../../component/consumer.js';
import { RetryableError, errorMessage } from '../../component/errors.js';
import type { Exporter } from '../../component/factory.js';
import type { Traces } from '../../pdata/traces.js';
import type { TraceStore } from '../../storage/api.js';
import { findStorageExtension } from '../../storage/extension.js';
import { durationMs } from '../../confmap/schema.js';
import { reportStatus } from '../../service/status.js';
import { InFlight } from '../helper/inflight.js';
import { Retrier } from '../helper/retry.js';
import type { Config } from './config.js';

export class StorageExporter implements Exporter {
  private store: TraceStore | undefined;
  private host: Host | undefined;
  private stopped = false;
  private failing = false;
  private readonly inflight = new InFlight();
  private readonly retrier: Retrier;
  private readonly name: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: Config,
  ) {
    this.retrier = new Retrier(cfg.retry_on_failure);
    this.name = settings.id.toString();
    this.timeoutMs = cfg.timeout ? durationMs(cfg.timeout) : 0;
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    // Throws with the configured backend names when trace_storage is unknown.
    this.store = findStorageExtension(host).getTraceStore(this.cfg.trace_storage);
  }

  consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void> {
    const store = this.store;
    if (!store || this.stopped) {
      return Promise.reject(new RetryableError(`exporter "${this.name}" is ${this.stopped ? 'shut down' : 'not started'}`));
    }
    const n = td.spanCount;
    const m = this.settings.telemetry.metrics;
    return this.inflight.track(async () => {
      try {
        await this.retrier.run(() => this.write(store, td, ctx));
      } catch (err) {
        m.exporterSendFailedSpans.inc({ exporter: this.name }, n);
        m.dropped('export_failed', `exporter/${this.name}`, n, err);
        if (!this.failing) {
          this.failing = true;
          this.settings.telemetry.logger.warn({ err: errorMessage(err), spans: n }, 'Exporting failed; the error is returned to the sender');
          reportStatus(this.host, 'recoverable_error', err instanceof Error ? err : new Error(String(err)));
        }
        throw err;
      }
      m.exporterSentSpans.inc({ exporter: this.name }, n);
      if (this.failing) {
        this.failing = false;
        this.settings.telemetry.logger.info('Exporting works again');
        reportStatus(this.host, 'ok');
      }
    });
  }

  private write(store: TraceStore, td: Traces, ctx: ConsumeContext): Promise<void> {
    const p = store.writeTraces(td, { tenant: ctx.tenant });
    if (this.timeoutMs <= 0) return p;
    let t: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new RetryableError(`storage write timed out after ${this.cfg.timeout}`)), this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(t));
  }

  async shutdown(): Promise<void> {
    this.retrier.abort();
    await this.inflight.idle();
    this.stopped = true;
  }
}
