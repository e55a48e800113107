/**
 * The service: builds the pipelines graph from a checked config, starts it downstream-first and
 * stops it upstream-first, as the Collector's service does.
 *
 * Graph rules (the Collector's):
 * - a receiver is one instance per id; when several pipelines list it, it fans out to all of them;
 * - a processor is one instance per (pipeline, id): its next consumer is its pipeline's;
 * - an exporter is one instance per id, shared by every pipeline that lists it;
 * - a pipeline with several exporters fans out to all of them; with no processors, its receivers
 *   feed its exporters directly;
 * - components that are configured but not used by any pipeline (or, for extensions, not listed in
 *   service.extensions) are not created.
 * Start: own telemetry, extensions (in the listed order, storage first), exporters, processors (last to first in
 * each pipeline), receivers; then the log line "Everything is ready. Begin running and processing
 * data.". Shutdown: the reverse — receivers stop accepting and finish their in-flight requests,
 * processors flush what they hold into the still-running exporters, exporters finish, extensions
 * (storage last) close.
 */
import type { Logger } from 'pino';
import type { BuildInfo, Component, CreateSettings, Host } from '../component/component.js';
import { fanout, type TracesConsumer } from '../component/consumer.js';
import type {
  Exporter,
  ExporterFactory,
  Extension,
  ExtensionFactory,
  Processor,
  ProcessorFactory,
  Receiver,
  ReceiverFactory,
} from '../component/factory.js';
import type { ComponentId, ComponentKind } from '../component/id.js';
import { isStorageExtension } from '../storage/extension.js';
import { createLogger } from '../telemetry/logger.js';
import { SelfMetrics } from '../telemetry/metrics.js';
import { startMetricsServer, type MetricsServer } from '../telemetry/prometheus.js';
import { redact } from '../confmap/redact.js';
import { effectiveConfig, loadConfig, type ComponentConfig, type ServiceConfig } from './config.js';
import type { Factories } from './factories.js';
import { StatusRegistry, type ComponentStatus, type StatusHost } from './status.js';
import { version } from './version.js';

export const readyMessage = 'Everything is ready. Begin running and processing data.';

export const defaultBuildInfo: BuildInfo = {
  command: 'skua',
  description: 'Skua distributed-tracing backend',
  version,
};

interface Instance {
  /** `receiver:otlp`, `processor:batch`, …: how logs and health name it. */
  readonly name: string;
  /** Unique per instance (a processor has one per pipeline). */
  readonly key: string;
  readonly kind: ComponentKind;
  readonly id: ComponentId;
  readonly component: Component;
}

export interface ServiceOptions {
  readonly logger?: Logger;
  readonly buildInfo?: BuildInfo;
  /** Defaults to a new SelfMetrics (one per service). */
  readonly metrics?: SelfMetrics;
}

class StartInterrupted extends Error {
  constructor() {
    super('shutdown requested while starting');
  }
}

export class Service {
  readonly logger: Logger;
  readonly metrics: SelfMetrics;
  readonly status = new StatusRegistry();
  readonly buildInfo: BuildInfo;
  /** Resolves with the error when a component reports a fatal error (the caller should shut down). */
  readonly fatal: Promise<Error>;

  private readonly extensions = new Map<string, Instance>();
  private readonly extensionComponents = new Map<string, Component>();
  private readonly exporters = new Map<string, Instance>();
  /** In start order: for each pipeline, last processor first. */
  private readonly processors: Instance[] = [];
  private readonly receivers = new Map<string, Instance>();
  private readonly metricsServers: MetricsServer[] = [];
  private resolveFatal!: (e: Error) => void;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopRequested = false;

  private constructor(
    readonly config: ServiceConfig,
    opts: ServiceOptions,
  ) {
    this.logger =
      opts.logger ??
      createLogger(config.telemetry.logLevel, config.telemetry.logEncoding ? { pretty: config.telemetry.logEncoding === 'console' } : {});
    this.metrics = opts.metrics ?? new SelfMetrics();
    this.buildInfo = opts.buildInfo ?? defaultBuildInfo;
    this.fatal = new Promise<Error>((resolve) => (this.resolveFatal = resolve));
    this.status.setConfigProvider(() => redact(effectiveConfig(config)));
  }

  /** Creates every used component (nothing is started). Throws when a factory fails; what was created is shut down. */
  static async create(config: ServiceConfig, opts: ServiceOptions = {}): Promise<Service> {
    const s = new Service(config, opts);
    try {
      await s.build();
    } catch (err) {
      await s.shutdownAll().catch(() => undefined);
      throw err;
    }
    return s;
  }

  private settings(kind: ComponentKind, id: ComponentId, extra: Record<string, string> = {}): CreateSettings {
    return {
      id,
      kind,
      telemetry: { logger: this.logger.child({ kind, name: id.toString(), ...extra }), metrics: this.metrics },
      buildInfo: this.buildInfo,
    };
  }

  private async build(): Promise<void> {
    const { config } = this;
    for (const w of config.warnings) this.logger.warn(w);

    // Extensions start in the listed order, except that storage extensions start first: the
    // extensions that read storage (jaeger_query) depend on them, as Jaeger declares.
    const created: Instance[] = [];
    try {
      for (const id of config.extensions) {
        const c = config.components.extension.get(id.toString())!;
        const f = c.factory as ExtensionFactory<unknown>;
        const ext: Extension = await f.create(this.settings('extension', id), c.config);
        created.push({ name: `extension:${id}`, key: `extension:${id}`, kind: 'extension', id, component: ext });
      }
    } finally {
      // Registered even when a later one failed to be created, so that shutdown reaches them.
      const ordered = [...created.filter((i) => isStorageExtension(i.component)), ...created.filter((i) => !isStorageExtension(i.component))];
      for (const inst of ordered) {
        this.extensions.set(inst.id.toString(), inst);
        this.extensionComponents.set(inst.id.toString(), inst.component);
        this.status.addExtension(inst.key);
      }
    }

    // Exporters: one per id.
    for (const p of config.pipelines) {
      for (const id of p.exporters) {
        if (this.exporters.has(id.toString())) continue;
        const c = config.components.exporter.get(id.toString())!;
        const exp: Exporter = await (c.factory as ExporterFactory<unknown>).createTraces(this.settings('exporter', id), c.config);
        this.exporters.set(id.toString(), { name: `exporter:${id}`, key: `exporter:${id}`, kind: 'exporter', id, component: exp });
      }
    }

    // Processors: one per (pipeline, id), created last to first so each knows its next.
    const pipelineEntry = new Map<string, TracesConsumer>();
    for (const p of config.pipelines) {
      let next: TracesConsumer = fanout(p.exporters.map((id) => this.exporters.get(id.toString())!.component as Exporter));
      const members: (readonly [string, string])[] = [];
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const id = p.processors[i]!;
        const c = config.components.processor.get(id.toString())!;
        const proc: Processor = await (c.factory as ProcessorFactory<unknown>).createTraces(
          this.settings('processor', id, { pipeline: p.id.toString() }),
          c.config,
          next,
        );
        const inst: Instance = { name: `processor:${id}`, key: `processor:${id}@${p.id}`, kind: 'processor', id, component: proc };
        this.processors.push(inst);
        members.unshift([inst.name, inst.key]);
        next = proc;
      }
      pipelineEntry.set(p.id.toString(), next);
      for (const id of p.exporters) members.push([`exporter:${id}`, `exporter:${id}`]);
      for (const id of p.receivers) members.unshift([`receiver:${id}`, `receiver:${id}`]);
      this.status.addPipeline(p.id.toString(), members);
    }

    // Receivers: one per id, fanning out to every pipeline that lists it.
    const receiverIds = new Map<string, ComponentId>();
    for (const p of config.pipelines) for (const id of p.receivers) receiverIds.set(id.toString(), id);
    for (const [key, id] of receiverIds) {
      const targets = config.pipelines.filter((p) => p.receivers.some((r) => r.toString() === key)).map((p) => pipelineEntry.get(p.id.toString())!);
      const c = config.components.receiver.get(key)!;
      const rcv: Receiver = await (c.factory as ReceiverFactory<unknown>).createTraces(this.settings('receiver', id), c.config, fanout(targets));
      this.receivers.set(key, { name: `receiver:${id}`, key: `receiver:${id}`, kind: 'receiver', id, component: rcv });
    }

    const used = (kind: ComponentKind, m: ReadonlyMap<string, ComponentConfig>, isUsed: (k: string) => boolean) => {
      for (const k of m.keys()) if (!isUsed(k)) this.logger.info({ kind, name: k }, `${kind} "${k}" is configured but not used; it is not started`);
    };
    used('receiver', config.components.receiver, (k) => this.receivers.has(k));
    used('processor', config.components.processor, (k) => this.processors.some((p) => p.id.toString() === k));
    used('exporter', config.components.exporter, (k) => this.exporters.has(k));
    used('extension', config.components.extension, (k) => this.extensions.has(k));
  }

  private hostFor(inst: Instance): StatusHost {
    return {
      getExtension: (id: ComponentId) => this.extensionComponents.get(id.toString()),
      getExtensions: () => this.extensionComponents,
      reportFatalError: (err: Error) => this.reportFatal(inst, err),
      statusSource: this.status,
      reportStatus: (status: ComponentStatus, error?: Error) => {
        if (!this.stopRequested || status === 'fatal_error') this.status.set(inst.key, status, error);
      },
    };
  }

  /** A host for code that is not a component (tests, tools). */
  get host(): Host {
    return {
      getExtension: (id: ComponentId) => this.extensionComponents.get(id.toString()),
      getExtensions: () => this.extensionComponents,
      reportFatalError: (err: Error) => this.resolveFatal(err),
    };
  }

  /** A started extension by its id string (`jaeger_storage`, `healthcheckv2/x`). */
  getExtension(id: string): Component | undefined {
    return this.extensionComponents.get(id);
  }

  /** The bound self-metrics endpoints (real ports, also when 0 was configured). */
  get metricsEndpoints(): { host: string; port: number }[] {
    return this.metricsServers.map((m) => ({ host: m.host, port: m.port }));
  }

  private reportFatal(inst: Instance, err: Error): void {
    this.logger.error({ kind: inst.kind, name: inst.id.toString(), err: err.message }, 'fatal error reported by a component; the service stops');
    this.status.set(inst.key, 'fatal_error', err);
    this.resolveFatal(err);
  }

  /** In start order. */
  private startOrder(): Instance[] {
    return [...this.extensions.values(), ...this.exporters.values(), ...this.processors, ...this.receivers.values()];
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const log = this.logger;
    log.info({ version: this.buildInfo.version, pid: process.pid }, `Starting ${this.buildInfo.command}...`);
    try {
      for (const ep of this.config.telemetry.metricsEndpoints) {
        try {
          const srv = await startMetricsServer(this.metrics, ep.host, ep.port);
          this.metricsServers.push(srv);
          log.info({ endpoint: `${ep.host}:${srv.port}` }, 'Serving self-metrics on /metrics');
        } catch (err) {
          throw new Error(`service::telemetry::metrics: cannot listen on ${ep.host}:${ep.port}: ${(err as Error).message}`, { cause: err });
        }
      }
      let phase = '';
      for (const inst of this.startOrder()) {
        if (this.stopRequested) throw new StartInterrupted();
        const label = `${inst.kind[0]!.toUpperCase()}${inst.kind.slice(1)}s`;
        if (phase !== inst.kind) {
          log.info(`Starting ${inst.kind}s...`);
          phase = inst.kind;
        }
        try {
          await inst.component.start(this.hostFor(inst));
        } catch (err) {
          this.status.set(inst.key, 'permanent_error', err as Error);
          throw new Error(`cannot start ${inst.kind} "${inst.id}": ${(err as Error).message}`, { cause: err });
        }
        this.status.set(inst.key, 'ok');
        log.debug({ kind: inst.kind, name: inst.id.toString() }, `${label.slice(0, -1)} started.`);
      }
    } catch (err) {
      if (this.stopRequested && !this.startFailed(err)) log.info('Start interrupted by shutdown');
      else log.error({ err: (err as Error).message }, 'Failed to start');
      await this.shutdownAll().catch(() => undefined);
      throw err;
    }
    log.info(readyMessage);
  }

  private startFailed(err: unknown): boolean {
    return !(err instanceof StartInterrupted);
  }

  /**
   * Stops everything, upstream first, waiting for each component to drain. Idempotent. Rejects
   * (after stopping everything it can) when some component failed to shut down.
   */
  shutdown(): Promise<void> {
    this.stopRequested = true;
    this.stopping ??= (async () => {
      if (this.starting) await this.starting.catch(() => undefined);
      await this.shutdownAll();
    })();
    return this.stopping;
  }

  private shutdownPromise: Promise<void> | undefined;
  private shutdownAll(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.stopRequested = true;
    const log = this.logger;
    log.info('Starting shutdown...');
    this.status.setAll('stopping');
    const errors: Error[] = [];
    const order = this.startOrder().reverse();
    const stop = async (inst: Instance): Promise<void> => {
      try {
        await inst.component.shutdown();
      } catch (err) {
        errors.push(new Error(`${inst.kind} "${inst.id}": ${(err as Error).message}`, { cause: err }));
        log.error({ kind: inst.kind, name: inst.id.toString(), err: (err as Error).message }, 'Failed to shut down');
      }
      this.status.set(inst.key, 'stopped');
    };
    // Receivers stop accepting first and wait for their in-flight requests; those requests may be
    // held by a batch processor waiting for its timer, so processors are told to drain at once.
    const receivers = order.filter((i) => i.kind === 'receiver');
    const stoppingReceivers = Promise.all(receivers.map(stop));
    for (const inst of order) if (inst.kind === 'processor') inst.component.drain?.();
    await stoppingReceivers;
    // Then the rest, upstream first: within a pipeline, first processor first (reverse of start).
    for (const inst of order) if (inst.kind !== 'receiver') await stop(inst);
    await Promise.all(this.metricsServers.map((m) => m.close()));
    log.info('Shutdown complete.');
    if (errors.length > 0) throw new AggregateError(errors, `shutdown failed: ${errors.map((e) => e.message).join('; ')}`);
  }
}

export interface StartServiceOptions extends ServiceOptions {
  /** `--config` sources, in order (`file:PATH`, a plain path, `env:VAR`, `yaml:INLINE`). */
  readonly configs?: readonly string[];
  /** `--set key::path=value` flags. */
  readonly sets?: readonly string[];
  /** An inline YAML configuration, applied after `configs` (as a `yaml:` source). */
  readonly yaml?: string;
  /** The environment for `${env:...}`; defaults to the process environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Defaults to every built-in component (src/components.ts). */
  readonly factories?: Factories;
}

/** Loads the config, creates and starts a service in-process. Throws `ConfigErrors` for a bad config. */
export async function startService(opts: StartServiceOptions): Promise<Service> {
  const factories = opts.factories ?? (await import('../components.js')).components();
  const configs = [...(opts.configs ?? []), ...(opts.yaml !== undefined ? [`yaml:${opts.yaml}`] : [])];
  const config = loadConfig({
    configs,
    ...(opts.sets ? { sets: opts.sets } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    factories,
  });
  const service = await Service.create(config, opts);
  await service.start();
  return service;
}
