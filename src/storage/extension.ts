import type { Component, Host } from '../component/component.js';
import type { TraceStore } from './api.js';

/**
 * What the `jaeger_storage` extension offers other components: the named backends it created
 * from `jaeger_storage.backends`. Exporters (`jaeger_storage_exporter.trace_storage`) and the
 * query extension (`jaeger_query.storage.traces`) look backends up by name.
 */
export interface StorageExtension extends Component {
  readonly isStorageExtension: true;
  /** The started backend; throws an Error naming the configured backends when `name` is unknown. */
  getTraceStore(name: string): TraceStore;
}

export function isStorageExtension(c: Component | undefined): c is StorageExtension {
  return (c as Partial<StorageExtension> | undefined)?.isStorageExtension === true;
}

/** Finds the single storage extension among the host's extensions. */
export function findStorageExtension(host: Host): StorageExtension {
  for (const c of host.getExtensions().values()) if (isStorageExtension(c)) return c;
  throw new Error('no jaeger_storage extension is configured in service.extensions');
}
