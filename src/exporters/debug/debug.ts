/** Logs what it receives (the Collector's `debug` exporter); never fails. */
import type { CreateSettings, Host } from '../../component/component.js';
import type { ConsumeContext } from '../../component/consumer.js';
import type { Exporter } from '../../component/factory.js';
import type { KeyValue, Span } from '../../pdata/model.js';
import type { Traces } from '../../pdata/traces.js';
import { anyValueToPlain } from '../../pdata/values.js';
import type { Config } from './config.js';

const kinds = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const statuses = ['UNSET', 'OK', 'ERROR'];

function attrs(kvs: readonly KeyValue[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const kv of kvs) o[kv.key] = anyValueToPlain(kv.value);
  return o;
}

export class DebugExporter implements Exporter {
  private second = 0;
  private countThisSecond = 0;
  private readonly name: string;

  constructor(
    private readonly settings: CreateSettings,
    private readonly cfg: Config,
  ) {
    this.name = settings.id.toString();
  }

  async start(_host: Host): Promise<void> {}

  /** The Collector's log sampling: the first `sampling_initial` messages each second, then one in `sampling_thereafter`. */
  private sampled(): boolean {
    const s = Math.floor(Date.now() / 1000);
    if (s !== this.second) {
      this.second = s;
      this.countThisSecond = 0;
    }
    const i = ++this.countThisSecond;
    if (i <= this.cfg.sampling_initial) return true;
    return (i - this.cfg.sampling_initial) % this.cfg.sampling_thereafter === 0;
  }

  async consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void> {
    const log = this.settings.telemetry.logger;
    const m = this.settings.telemetry.metrics;
    const rss = td.resourceSpans();
    if (this.sampled()) {
      log.info({ 'resource spans': rss.length, spans: td.spanCount, ...(ctx.tenant ? { tenant: ctx.tenant } : {}) }, 'Traces');
      if (this.cfg.verbosity !== 'basic') {
        for (const rs of rss) {
          const resource = attrs(rs.resource.attributes);
          const service = resource['service.name'];
          for (const ss of rs.scopeSpans) {
            for (const span of ss.spans) {
              if (this.cfg.verbosity === 'normal') log.info(this.normal(span, service), 'Span');
              else log.info({ resource, scope: { name: ss.scope.name, version: ss.scope.version, attributes: attrs(ss.scope.attributes) }, ...this.detailed(span) }, 'Span');
            }
          }
        }
      }
    }
    m.exporterSentSpans.inc({ exporter: this.name }, td.spanCount);
  }

  private normal(s: Span, service: unknown): Record<string, unknown> {
    return {
      service,
      trace_id: s.traceId,
      span_id: s.spanId,
      parent_span_id: s.parentSpanId,
      span_name: s.name,
      kind: kinds[s.kind] ?? String(s.kind),
      duration_ms: Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6,
      status: statuses[s.status.code] ?? String(s.status.code),
    };
  }

  private detailed(s: Span): Record<string, unknown> {
    return {
      trace_id: s.traceId,
      span_id: s.spanId,
      parent_span_id: s.parentSpanId,
      trace_state: s.traceState,
      flags: s.flags,
      span_name: s.name,
      kind: kinds[s.kind] ?? String(s.kind),
      start_time_unix_nano: s.startTimeUnixNano.toString(),
      end_time_unix_nano: s.endTimeUnixNano.toString(),
      status: { code: statuses[s.status.code] ?? String(s.status.code), message: s.status.message },
      attributes: attrs(s.attributes),
      events: s.events.map((e) => ({ name: e.name, time_unix_nano: e.timeUnixNano.toString(), attributes: attrs(e.attributes) })),
      links: s.links.map((l) => ({ trace_id: l.traceId, span_id: l.spanId, attributes: attrs(l.attributes) })),
      dropped: { attributes: s.droppedAttributesCount, events: s.droppedEventsCount, links: s.droppedLinksCount },
    };
  }

  async shutdown(): Promise<void> {}
}
