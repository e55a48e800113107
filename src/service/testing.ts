/**
 * Public test helpers for components and the service (as the Collector's componenttest /
 * otelcoltest): settings with a silent or capturing logger, and "recorder" components of every
 * kind that log their lifecycle and let tests drive them.
 */
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import type { CreateSettings, Host } from '../component/component.js';
import type { ConsumeContext, TracesConsumer } from '../component/consumer.js';
import type {
  AnyFactory,
  Exporter,
  ExporterFactory,
  Extension,
  ExtensionFactory,
  Processor,
  ProcessorFactory,
  Receiver,
  ReceiverFactory,
} from '../component/factory.js';
import { ComponentId, type ComponentKind } from '../component/id.js';
import { Traces } from '../pdata/traces.js';
import type { ResourceSpans, Span, TraceId } from '../pdata/model.js';
import type { TraceStore } from '../storage/api.js';
import { newSpanId, newTraceId, str } from '../storage/conformance.js';
import { nopLogger } from '../telemetry/logger.js';
import { SelfMetrics } from '../telemetry/metrics.js';
import { defaultBuildInfo } from './service.js';

export function testSettings(kind: ComponentKind, id: string, opts: { logger?: Logger; metrics?: SelfMetrics } = {}): CreateSettings {
  return {
    id: ComponentId.parse(id),
    kind,
    telemetry: { logger: opts.logger ?? nopLogger(), metrics: opts.metrics ?? new SelfMetrics() },
    buildInfo: defaultBuildInfo,
  };
}

/** A logger whose JSON lines are collected in `lines`. */
export function captureLogger(level: 'debug' | 'info' = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level, base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

/** A bare Host (no status), with the given extensions. */
export function bareHost(extensions: ReadonlyMap<string, Extension> = new Map()): Host & { fatal: Error[] } {
  const fatal: Error[] = [];
  return {
    fatal,
    getExtension: (id) => extensions.get(id.toString()),
    getExtensions: () => extensions,
    reportFatalError: (e) => void fatal.push(e),
  };
}

// ------------------------------------------------------------------------------------------------
// Recorder components (type "rec" in every kind)
// ------------------------------------------------------------------------------------------------

export interface RecorderConfig {
  /** Start waits until `release(id)` is called. */
  hold_start?: boolean;
  /** Shutdown waits until `release(id)` is called. */
  hold_shutdown?: boolean;
  /** Start throws. */
  fail_start?: boolean;
}

const recorderSchema = z.strictObject({
  hold_start: z.boolean().optional(),
  hold_shutdown: z.boolean().optional(),
  fail_start: z.boolean().optional(),
});

/** Shared state of the recorder components of one test. */
export class Recorder {
  /** `create receiver/rec/a`, `start exporter/rec`, `shutdown processor/rec@traces`… */
  readonly events: string[] = [];
  /** Traces seen by each recorder exporter (by id). */
  readonly exported = new Map<string, Traces[]>();
  /** Receivers by id, to push data into the pipeline. */
  readonly receivers = new Map<string, { next: TracesConsumer; host?: Host }>();
  readonly hosts = new Map<string, Host>();
  private readonly gates = new Map<string, () => void>();

  release(key: string): void {
    this.gates.get(key)?.();
    this.gates.delete(key);
  }

  async gate(key: string): Promise<void> {
    await new Promise<void>((resolve) => this.gates.set(key, resolve));
  }

  isHeld(key: string): boolean {
    return this.gates.has(key);
  }

  /** Resolves once `key` is waiting at a gate. */
  async waitHeld(key: string): Promise<void> {
    while (!this.gates.has(key)) await new Promise((r) => setTimeout(r, 5));
  }

  factories(): AnyFactory[] {
    return [recReceiver(this), recProcessor(this), recExporter(this), recExtension(this)];
  }
}

class RecComponent {
  constructor(
    protected readonly rec: Recorder,
    protected readonly key: string,
    protected readonly cfg: RecorderConfig,
  ) {
    rec.events.push(`create ${key}`);
  }
  async start(host: Host): Promise<void> {
    this.rec.hosts.set(this.key, host);
    if (this.cfg.hold_start) await this.rec.gate(`start ${this.key}`);
    if (this.cfg.fail_start) throw new Error(`${this.key} refuses to start`);
    this.rec.events.push(`start ${this.key}`);
  }
  async shutdown(): Promise<void> {
    if (this.cfg.hold_shutdown) await this.rec.gate(`shutdown ${this.key}`);
    this.rec.events.push(`shutdown ${this.key}`);
  }
}

function base<C>(type: string) {
  return {
    type,
    stability: 'development' as const,
    description: 'test recorder',
    configSchema: recorderSchema as unknown as z.ZodType<C>,
    createDefaultConfig: () => ({}) as C,
  };
}

function recReceiver(rec: Recorder): ReceiverFactory<RecorderConfig> {
  return {
    ...base<RecorderConfig>('rec'),
    kind: 'receiver',
    createTraces(settings, cfg, next): Receiver {
      const key = `receiver/${settings.id}`;
      rec.receivers.set(settings.id.toString(), { next });
      return new RecComponent(rec, key, cfg);
    },
  };
}

function recProcessor(rec: Recorder): ProcessorFactory<RecorderConfig> {
  return {
    ...base<RecorderConfig>('rec'),
    kind: 'processor',
    createTraces(settings, cfg, next): Processor {
      const pipeline = (settings.telemetry.logger.bindings() as { pipeline?: string }).pipeline ?? '';
      const c = new RecComponent(rec, `processor/${settings.id}@${pipeline}`, cfg);
      return Object.assign(c, {
        consumeTraces: (td: Traces, ctx: ConsumeContext) => {
          rec.events.push(`consume processor/${settings.id}@${pipeline}`);
          return next.consumeTraces(td, ctx);
        },
      });
    },
  };
}

function recExporter(rec: Recorder): ExporterFactory<RecorderConfig> {
  return {
    ...base<RecorderConfig>('rec'),
    kind: 'exporter',
    createTraces(settings, cfg): Exporter {
      const c = new RecComponent(rec, `exporter/${settings.id}`, cfg);
      return Object.assign(c, {
        consumeTraces: async (td: Traces) => {
          const list = rec.exported.get(settings.id.toString()) ?? [];
          list.push(td);
          rec.exported.set(settings.id.toString(), list);
        },
      });
    },
  };
}

function recExtension(rec: Recorder): ExtensionFactory<RecorderConfig> {
  return {
    ...base<RecorderConfig>('rec'),
    kind: 'extension',
    create: (settings, cfg): Extension => new RecComponent(rec, `extension/${settings.id}`, cfg),
  };
}

// ------------------------------------------------------------------------------------------------
// Data
// ------------------------------------------------------------------------------------------------

/** `n` spans of one new trace per resource, `resources` resources with service.name svc0, svc1… (or `service`). */
export function makeTraces(n: number, opts: { resources?: number; service?: string; traceId?: TraceId } = {}): Traces {
  const rss: ResourceSpans[] = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let r = 0; r < (opts.resources ?? 1); r++) {
    const traceId = opts.traceId ?? newTraceId();
    const spans: Span[] = [];
    for (let i = 0; i < n; i++) {
      spans.push({
        traceId,
        spanId: newSpanId(),
        traceState: '',
        parentSpanId: '',
        flags: 0,
        name: `op${i}`,
        kind: 2,
        startTimeUnixNano: now - 1_000_000n,
        endTimeUnixNano: now,
        attributes: [str('i', String(i))],
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: { code: 0, message: '' },
      });
    }
    rss.push({
      resource: { attributes: [str('service.name', opts.service ?? `svc${r}`)], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{ scope: { name: 'test', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }],
    });
  }
  return Traces.fromResourceSpans(rss);
}

export function spanIdsOf(td: Traces): string[] {
  return td.resourceSpans().flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.spanId)));
}

/** Every span id a store holds for a tenant. */
export async function storedSpanIds(store: TraceStore, tenant = ''): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const chunk of store.findTraces({ searchDepth: 1_000_000_000 }, { tenant })) {
    for (const td of chunk) for (const id of spanIdsOf(td)) out.add(id);
  }
  return out;
}
