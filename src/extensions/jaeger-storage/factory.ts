import type { ExtensionFactory } from '../../component/factory.js';
import type { StorageFactory } from '../../storage/api.js';
import { storageFactories } from '../../storage/factories.js';
import { buildConfigSchema, createDefaultConfig, type Config } from './config.js';
import { JaegerStorageExtension } from './extension.js';

/** A `jaeger_storage` factory over the given backend types (the registry's by default). */
export function createFactory(types: readonly StorageFactory<any>[] = storageFactories): ExtensionFactory<Config> {
  return {
    type: 'jaeger_storage',
    kind: 'extension',
    stability: 'beta',
    description: `Named trace storage backends (types: ${types.map((t) => t.type).sort().join(', ') || 'none'})`,
    configSchema: buildConfigSchema(types),
    createDefaultConfig,
    create: (settings, cfg) => new JaegerStorageExtension(settings, cfg, types),
  };
}

export const factory: ExtensionFactory<Config> = createFactory();
