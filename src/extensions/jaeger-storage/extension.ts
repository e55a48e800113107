/**
 * The `jaeger_storage` extension: creates one TraceStore per configured backend, starts them with
 * the service (extensions start before every pipeline component) and closes them last. Exporters
 * and the query extension find their backend by name through `getTraceStore`.
 */
import type { CreateSettings, Host } from '../../component/component.js';
import type { StorageFactory, TraceStore } from '../../storage/api.js';
import type { StorageExtension } from '../../storage/extension.js';
import { backendType, type Config } from './config.js';

export class JaegerStorageExtension implements StorageExtension {
  readonly isStorageExtension = true as const;
  private readonly stores = new Map<string, TraceStore>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly settings: CreateSettings,
    cfg: Config,
    types: readonly StorageFactory<any>[],
  ) {
    for (const [name, b] of Object.entries(cfg.backends)) {
      const type = backendType(b);
      const f = types.find((t) => t.type === type);
      if (!f) throw new Error(`backends::${name}: unknown storage type "${type}"`);
      const logger = settings.telemetry.logger.child({ backend: name, type });
      this.stores.set(name, f.create(b[type], { logger, metrics: settings.telemetry.metrics, name }));
    }
  }

  async start(_host: Host): Promise<void> {
    for (const [name, store] of this.stores) {
      try {
        await store.start();
      } catch (err) {
        throw new Error(`cannot start storage backend "${name}": ${(err as Error).message}`, { cause: err });
      }
      this.settings.telemetry.logger.info({ backend: name }, 'Storage backend started');
    }
  }

  getTraceStore(name: string): TraceStore {
    const s = this.stores.get(name);
    if (!s) {
      const names = [...this.stores.keys()];
      throw new Error(
        `unknown trace storage "${name}"; ${names.length > 0 ? `configured backends: ${names.join(', ')}` : 'no backends are configured'} (extensions::${this.settings.id}::backends)`,
      );
    }
    return s;
  }

  /** The configured backend names. */
  backendNames(): string[] {
    return [...this.stores.keys()];
  }

  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      const results = await Promise.allSettled([...this.stores.values()].map((s) => s.close()));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) throw new Error(`closing storage failed: ${failed.map((f) => String((f.reason as Error)?.message ?? f.reason)).join('; ')}`);
    })();
    return this.closing;
  }
}
