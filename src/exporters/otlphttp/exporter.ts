/**
 * OTLP/HTTP exporter. Status handling as the OTLP specification says: 2xx is success (a
 * partial_success with rejected spans is logged and counted as dropped, as the Collector does);
 * 429, 502, 503 and 504 are retryable (honouring Retry-After); any other status is permanent.
 * Network errors and timeouts are retryable.
 */
import { gzipSync } from 'node:zlib';
import type { CreateSettings, Host } from '../../component/component.js';
import type { ConsumeContext } from '../../component/consumer.js';
import { PermanentError, RetryableError, errorMessage } from '../../component/errors.js';
import type { Exporter } from '../../component/factory.js';
import type { Traces } from '../../pdata/traces.js';
import { encodeTraceRequestProto, decodeTraceResponseProto } from '../../pdata/proto-encode.js';
import { decodeTraceResponseJson, encodeTraceRequestJson } from '../../pdata/json.js';
import { durationMs } from '../../confmap/schema.js';
import { reportStatus } from '../../service/status.js';
import { InFlight } from '../helper/inflight.js';
import { Retrier } from '../helper/retry.js';
import { tracesUrl, type Config } from './config.js';

const retryableStatus = new Set([429, 502, 503, 504]);

export class OtlpHttpExporter implements Exporter {
  private readonly url: string;
  private readonly retrier: Retrier;
  private readonly inflight = new InFlight();
  private readonly timeoutMs: number;
  private readonly name: string;
  private host: Host | undefined;
  private started = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: Config,
  ) {
    this.url = tracesUrl(cfg);
    this.retrier = new Retrier(cfg.retry_on_failure);
    this.timeoutMs = durationMs(cfg.timeout);
    this.name = settings.id.toString();
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    this.started = true;
  }

  consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void> {
    if (!this.started || this.stopped) return Promise.reject(new RetryableError(`exporter "${this.name}" is ${this.stopped ? 'shut down' : 'not started'}`));
    const n = td.spanCount;
    const m = this.settings.telemetry.metrics;
    return this.inflight.track(async () => {
      const body = this.encode(td);
      try {
        await this.retrier.run(() => this.send(body, ctx));
      } catch (err) {
        m.exporterSendFailedSpans.inc({ exporter: this.name }, n);
        m.dropped('export_failed', `exporter/${this.name}`, n, err);
        if (!this.failing) {
          this.failing = true;
          this.settings.telemetry.logger.warn({ err: errorMessage(err), url: this.url }, 'Exporting failed; the error is returned to the sender');
          reportStatus(this.host, 'recoverable_error', err instanceof Error ? err : new Error(String(err)));
        }
        throw err;
      }
      m.exporterSentSpans.inc({ exporter: this.name }, n);
      if (this.failing) {
        this.failing = false;
        reportStatus(this.host, 'ok');
      }
    });
  }

  private encode(td: Traces): Uint8Array {
    const raw = this.cfg.encoding === 'json' ? Buffer.from(encodeTraceRequestJson(td)) : encodeTraceRequestProto(td);
    return this.cfg.compression === 'gzip' ? gzipSync(raw) : raw;
  }

  private async send(body: Uint8Array, ctx: ConsumeContext): Promise<void> {
    const headers: Record<string, string> = {
      ...this.cfg.headers,
      'content-type': this.cfg.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      'user-agent': `${this.settings.buildInfo.command}/${this.settings.buildInfo.version}`,
    };
    if (this.cfg.compression === 'gzip') headers['content-encoding'] = 'gzip';
    if (ctx.tenant) headers['x-tenant'] ??= ctx.tenant;
    let res: Response;
    try {
      res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new RetryableError(`POST ${this.url}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`, { cause: err });
    }
    const buf = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (res.ok) {
      this.checkPartial(buf, res.headers.get('content-type') ?? '');
      return;
    }
    const msg = `POST ${this.url}: HTTP ${res.status}${statusMessage(buf, res.headers.get('content-type') ?? '')}`;
    if (retryableStatus.has(res.status)) {
      const ra = retryAfterMs(res.headers.get('retry-after'));
      throw new RetryableError(msg, ra !== undefined ? { retryAfterMs: ra } : {});
    }
    throw new PermanentError(msg);
  }

  private checkPartial(buf: Uint8Array, contentType: string): void {
    if (buf.length === 0) return;
    try {
      const r = contentType.includes('json') ? decodeTraceResponseJson(buf) : decodeTraceResponseProto(buf);
      const rejected = Number(r.rejectedSpans);
      if (rejected > 0 || r.errorMessage) {
        this.settings.telemetry.metrics.dropped('rejected_downstream', `exporter/${this.name}`, rejected);
        this.settings.telemetry.logger.warn({ rejected_spans: rejected, error_message: r.errorMessage }, 'Partial success response');
      }
    } catch {
      /* an unreadable success body is still a success */
    }
  }

  async shutdown(): Promise<void> {
    this.retrier.abort();
    await this.inflight.idle();
    this.stopped = true;
  }
}

function statusMessage(buf: Uint8Array, contentType: string): string {
  if (buf.length === 0) return '';
  if (contentType.includes('json') || contentType.startsWith('text/')) return `: ${Buffer.from(buf).toString('utf8').slice(0, 300)}`;
  return '';
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}
