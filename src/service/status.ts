/**
 * Component status, as the Collector's component status reporting: every component instance has a
 * status; statuses are aggregated per pipeline and for the whole service. The health extensions
 * read the aggregate (`statusSourceOf(host)`), components may report their own runtime health
 * (`reportStatus(host, ...)`, e.g. an exporter whose backend fails).
 */
import type { Host } from '../component/component.js';

export type ComponentStatus =
  | 'starting'
  | 'ok'
  | 'recoverable_error'
  | 'permanent_error'
  | 'fatal_error'
  | 'stopping'
  | 'stopped';

/** The Collector's names for statuses, as healthcheckv2 prints them. */
export const statusNames: Record<ComponentStatus, string> = {
  starting: 'StatusStarting',
  ok: 'StatusOK',
  recoverable_error: 'StatusRecoverableError',
  permanent_error: 'StatusPermanentError',
  fatal_error: 'StatusFatalError',
  stopping: 'StatusStopping',
  stopped: 'StatusStopped',
};

export interface StatusEntry {
  readonly status: ComponentStatus;
  readonly error?: string;
  readonly since: Date;
}

export interface AggregateStatus extends StatusEntry {
  /** `kind:id` (e.g. `receiver:otlp`) or `pipeline:traces` → status. */
  readonly components: Readonly<Record<string, StatusEntry | AggregateStatus>>;
}

/** What the health extensions read. */
export interface StatusSource {
  readonly startTime: Date;
  /** The whole service: `components` has `extensions` and one `pipeline:ID` entry per pipeline. */
  overall(): AggregateStatus;
  /** One pipeline (`traces`, `traces/x`); undefined when there is no such pipeline. */
  pipeline(id: string): AggregateStatus | undefined;
  pipelineIds(): string[];
  /** The effective configuration with secrets redacted (healthcheckv2's config endpoint). */
  effectiveConfig(): unknown;
}

/** The host given to components by the service: a Host that also carries status. */
export interface StatusHost extends Host {
  readonly statusSource: StatusSource;
  /** Reports the status of the component this host was given to. */
  reportStatus(status: ComponentStatus, error?: Error): void;
}

function isStatusHost(h: Host): h is StatusHost {
  return typeof (h as Partial<StatusHost>).reportStatus === 'function' && (h as Partial<StatusHost>).statusSource !== undefined;
}

/** The service's status, or undefined under a host that has none (e.g. a bare test host). */
export function statusSourceOf(host: Host): StatusSource | undefined {
  return isStatusHost(host) ? host.statusSource : undefined;
}

/** Lets a component report a runtime problem (or recovery); a no-op under hosts without status. */
export function reportStatus(host: Host | undefined, status: ComponentStatus, error?: Error): void {
  if (host && isStatusHost(host)) host.reportStatus(status, error);
}

// Aggregation precedence, as the Collector's: lifecycle states first (a pipeline that is starting
// or stopping is not serving), then errors by severity.
const precedence: ComponentStatus[] = ['fatal_error', 'stopping', 'stopped', 'starting', 'permanent_error', 'recoverable_error', 'ok'];

function aggregate(entries: Record<string, StatusEntry | AggregateStatus>, fallbackSince: Date): AggregateStatus {
  const list = Object.values(entries);
  if (list.length === 0) return { status: 'ok', since: fallbackSince, components: entries };
  let worst = list[0]!;
  for (const e of list) {
    if (precedence.indexOf(e.status) < precedence.indexOf(worst.status)) worst = e;
    else if (e.status === worst.status && e.since > worst.since) worst = e;
  }
  return {
    status: worst.status,
    ...(worst.error !== undefined ? { error: worst.error } : {}),
    since: worst.since,
    components: entries,
  };
}

/** The service's registry of component statuses. */
export class StatusRegistry implements StatusSource {
  readonly startTime = new Date();
  private readonly statuses = new Map<string, StatusEntry>();
  /** pipeline id → its components: [name shown (`processor:batch`), instance key]. */
  private readonly pipelines = new Map<string, (readonly [string, string])[]>();
  private readonly extensionKeys: string[] = [];
  private configProvider: () => unknown = () => ({});

  setConfigProvider(fn: () => unknown): void {
    this.configProvider = fn;
  }

  effectiveConfig(): unknown {
    return this.configProvider();
  }

  addExtension(key: string): void {
    this.extensionKeys.push(key);
    this.set(key, 'starting');
  }

  /** `members`: [name shown, instance key] (a processor has one instance per pipeline, hence both). */
  addPipeline(id: string, members: (readonly [string, string])[]): void {
    this.pipelines.set(id, members);
    for (const [, k] of members) if (!this.statuses.has(k)) this.set(k, 'starting');
  }

  set(key: string, status: ComponentStatus, error?: Error): void {
    const prev = this.statuses.get(key);
    // A terminal state is not left by late reports, except to be stopped.
    if (prev?.status === 'fatal_error' && status !== 'stopped') return;
    if ((prev?.status === 'stopping' || prev?.status === 'stopped') && status !== 'stopped' && status !== 'fatal_error') return;
    if (prev && prev.status === status && prev.error === error?.message) return;
    this.statuses.set(key, { status, ...(error ? { error: error.message } : {}), since: new Date() });
  }

  setAll(status: ComponentStatus): void {
    for (const k of this.statuses.keys()) this.set(k, status);
  }

  get(key: string): StatusEntry | undefined {
    return this.statuses.get(key);
  }

  pipelineIds(): string[] {
    return [...this.pipelines.keys()];
  }

  pipeline(id: string): AggregateStatus | undefined {
    const members = this.pipelines.get(id);
    if (!members) return undefined;
    const entries: Record<string, StatusEntry> = {};
    for (const [name, k] of members) entries[name] = this.statuses.get(k) ?? { status: 'starting', since: this.startTime };
    return aggregate(entries, this.startTime);
  }

  overall(): AggregateStatus {
    const entries: Record<string, StatusEntry | AggregateStatus> = {};
    const ext: Record<string, StatusEntry> = {};
    for (const k of this.extensionKeys) ext[k] = this.statuses.get(k) ?? { status: 'starting', since: this.startTime };
    if (this.extensionKeys.length > 0) entries['extensions'] = aggregate(ext, this.startTime);
    for (const id of this.pipelines.keys()) entries[`pipeline:${id}`] = this.pipeline(id)!;
    if (Object.keys(entries).length === 0) return { status: 'starting', since: this.startTime, components: {} };
    return aggregate(entries, this.startTime);
  }
}
