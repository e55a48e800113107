import type { StorageFactory } from '../api.js';
import { configSchema, createDefaultConfig, type Config } from './config.js';
import { ClickHouseStore } from './clickhouse.js';

/**
 * `jaeger_storage.backends.NAME.clickhouse`. Importing this file loads neither chDB nor the
 * ClickHouse client: they are imported when a configured backend starts.
 */
export const factory: StorageFactory<Config> = {
  type: 'clickhouse',
  description: 'ClickHouse: embedded (chDB, data on local disk) or a server/cluster; durable, OTel Collector schema',
  configSchema,
  createDefaultConfig,
  create: (cfg, telemetry) => new ClickHouseStore({ config: cfg, name: telemetry.name, logger: telemetry.logger, metrics: telemetry.metrics }),
};
