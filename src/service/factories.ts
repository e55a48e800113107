import type {
  AnyFactory,
  ExporterFactory,
  ExtensionFactory,
  ProcessorFactory,
  ReceiverFactory,
} from '../component/factory.js';
import type { ComponentKind } from '../component/id.js';

/** The component types a service can build, by kind then type (see src/components.ts). */
export interface Factories {
  readonly receivers: ReadonlyMap<string, ReceiverFactory<any>>;
  readonly processors: ReadonlyMap<string, ProcessorFactory<any>>;
  readonly exporters: ReadonlyMap<string, ExporterFactory<any>>;
  readonly extensions: ReadonlyMap<string, ExtensionFactory<any>>;
}

/** The config section of each kind. */
export const kindSections = {
  receiver: 'receivers',
  processor: 'processors',
  exporter: 'exporters',
  extension: 'extensions',
} as const satisfies Record<ComponentKind, string>;

export type KindSection = (typeof kindSections)[ComponentKind];

/** Builds a registry from a list of factories; throws on a duplicate type within a kind. */
export function makeFactories(list: readonly AnyFactory[]): Factories {
  const receivers = new Map<string, ReceiverFactory<any>>();
  const processors = new Map<string, ProcessorFactory<any>>();
  const exporters = new Map<string, ExporterFactory<any>>();
  const extensions = new Map<string, ExtensionFactory<any>>();
  for (const f of list) {
    const m: Map<string, AnyFactory> =
      f.kind === 'receiver' ? receivers : f.kind === 'processor' ? processors : f.kind === 'exporter' ? exporters : extensions;
    if (m.has(f.type)) throw new Error(`duplicate ${f.kind} factory "${f.type}"`);
    m.set(f.type, f);
  }
  return { receivers, processors, exporters, extensions };
}

export function factoriesOf(f: Factories, kind: ComponentKind): ReadonlyMap<string, AnyFactory> {
  switch (kind) {
    case 'receiver':
      return f.receivers;
    case 'processor':
      return f.processors;
    case 'exporter':
      return f.exporters;
    case 'extension':
      return f.extensions;
  }
}

export function allFactories(f: Factories): AnyFactory[] {
  return [...f.receivers.values(), ...f.processors.values(), ...f.exporters.values(), ...f.extensions.values()];
}
