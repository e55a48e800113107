import type { Logger } from 'pino';
import type { ComponentId, ComponentKind } from './id.js';
import type { SelfMetrics } from '../telemetry/metrics.js';

/**
 * Lifecycle of every component: `start` once, `shutdown` once or more. `shutdown` is idempotent,
 * safe without `start`, and flushes what the component holds before resolving.
 * The service starts extensions, then exporters, processors, receivers (downstream first) and
 * shuts down in the reverse order.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
  /**
   * Optional: shutdown has begun upstream (receivers stop accepting). Send what is held now and
   * stop waiting for more (e.g. a batch timer), so in-flight senders are answered promptly.
   */
  drain?(): void;
}

/** What a running component may ask of the service. */
export interface Host {
  /** A started extension by id, e.g. the `jaeger_storage` extension an exporter writes through. */
  getExtension(id: ComponentId): Component | undefined;
  /** All extensions, for components that find theirs by type. */
  getExtensions(): ReadonlyMap<string, Component>;
  /** A component reports a fatal error after start (e.g. a port lost); the service stops. */
  reportFatalError(err: Error): void;
}

export interface TelemetrySettings {
  readonly logger: Logger;
  readonly metrics: SelfMetrics;
}

export interface BuildInfo {
  readonly command: string;
  readonly description: string;
  readonly version: string;
}

/** What the service supplies when creating a component (`Settings`; `Config` is what the user wrote). */
export interface CreateSettings {
  readonly id: ComponentId;
  readonly kind: ComponentKind;
  readonly telemetry: TelemetrySettings;
  readonly buildInfo: BuildInfo;
}
