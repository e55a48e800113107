import type { z } from 'zod';
import type { Component, CreateSettings } from './component.js';
import type { TracesConsumer } from './consumer.js';
import type { ComponentKind, Stability } from './id.js';

/**
 * A factory per component type, as in the Collector: defaults live only in `createDefaultConfig`;
 * the user's YAML is deep-merged over them and then checked by the strict `configSchema` (unknown
 * keys are errors). `validate` adds checks a schema cannot express. Configs are plain data.
 */
export interface FactoryBase<C> {
  readonly type: string;
  readonly kind: ComponentKind;
  readonly stability: Stability;
  /** One line for `skua components`. */
  readonly description: string;
  readonly configSchema: z.ZodType<C>;
  createDefaultConfig(): C;
  /**
   * Optional: build the config from the user's raw map (already env-expanded) instead of the
   * default deep-merge, for the few components whose presence of a key means something
   * (e.g. the OTLP receiver enables only the protocols that are written).
   */
  unmarshal?(raw: unknown, defaults: C): unknown;
  /** Extra semantic checks; return messages (each becomes an error at this component's path). */
  validate?(cfg: C): string[];
}

export interface Receiver extends Component {}
export interface Processor extends Component, TracesConsumer {}
export interface Exporter extends Component, TracesConsumer {}
export interface Extension extends Component {}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  createTraces(settings: CreateSettings, cfg: C, next: TracesConsumer): Promise<Receiver> | Receiver;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  createTraces(settings: CreateSettings, cfg: C, next: TracesConsumer): Promise<Processor> | Processor;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  createTraces(settings: CreateSettings, cfg: C): Promise<Exporter> | Exporter;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'extension';
  create(settings: CreateSettings, cfg: C): Promise<Extension> | Extension;
}

export type AnyFactory =
  | ReceiverFactory<any>
  | ProcessorFactory<any>
  | ExporterFactory<any>
  | ExtensionFactory<any>;
