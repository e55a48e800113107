/**
 * Schema migrations: `skua_schema_version` records every applied version. At start, a store at an
 * older version is upgraded (when `create_schema` is true) or refused with a message saying what to
 * do; a store written by a newer Skua is always refused (this code cannot know its layout).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { PermanentError } from '../../component/errors.js';
import { fsyncStatement, MIGRATIONS, SCHEMA_VERSION, T, TTL_TABLES, tableRef, ttlExpression, ttlStatements, versionTableStatements, storageTable, type SchemaOptions } from './schema.js';

export interface MigrateOptions {
  readonly create: boolean;
  readonly where: string;
  readonly logger?: Logger | undefined;
  /** Tests only: stop at this version. */
  readonly targetVersion?: number;
  readonly skuaVersion?: string;
  /** fsync inserted parts (`write.fsync`); applied when `create` is true. */
  readonly fsync?: boolean;
}

/** The store's schema version: 0 when the database or version table does not exist. */
export async function currentVersion(client: ClickHouseClient, o: SchemaOptions): Promise<number> {
  const exists = await client.query({
    query: 'SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}',
    query_params: { db: o.database, t: T.version },
    format: 'JSONCompactEachRow',
  });
  const [[n]] = (await exists.json()) as [[number | string]];
  if (Number(n) === 0) return 0;
  const rs = await client.query({ query: `SELECT max(Version) FROM ${tableRef(o, T.version)}`, format: 'JSONCompactEachRow' });
  const [[v]] = (await rs.json()) as [[number | string]];
  return Number(v);
}

export async function migrate(client: ClickHouseClient, o: SchemaOptions, m: MigrateOptions): Promise<number> {
  const target = m.targetVersion ?? SCHEMA_VERSION;
  const have = await currentVersion(client, o);
  const where = `${m.where} (database "${o.database}")`;
  if (have > SCHEMA_VERSION) {
    throw new PermanentError(
      `the store at ${where} has schema version ${have}, written by a newer Skua; this Skua knows versions up to ${SCHEMA_VERSION}: upgrade Skua`,
    );
  }
  if (have < target && !m.create) {
    throw new PermanentError(
      have === 0
        ? `the store at ${where} has no Skua schema and create_schema is false: set create_schema: true once, or create it with the statements in docs/storage.md`
        : `the store at ${where} has schema version ${have}; this Skua needs version ${target}: set create_schema: true to upgrade it`,
    );
  }
  if (m.create) {
    for (const s of versionTableStatements(o)) await command(client, s);
    for (const mig of MIGRATIONS) {
      if (mig.version <= have || mig.version > target) continue;
      m.logger?.info({ version: mig.version, where }, `clickhouse schema: applying migration ${mig.version} (${mig.description})`);
      for (const s of mig.statements(o)) await command(client, s);
      await command(
        client,
        `INSERT INTO ${tableRef(o, T.version)} (Version, Description, SkuaVersion) VALUES (${mig.version}, {d:String}, {v:String})`,
        { d: mig.description, v: m.skuaVersion ?? '' },
      );
    }
    await alignDataTables(client, o, m.fsync ?? false);
  }
  return Math.max(have, Math.min(target, SCHEMA_VERSION));
}

/**
 * Brings every data table's TTL and fsync settings to the configured ones where they differ (one
 * read of the tables' definitions).
 */
async function alignDataTables(client: ClickHouseClient, o: SchemaOptions, fsync: boolean): Promise<void> {
  const rs = await client.query({
    query: 'SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}',
    query_params: { db: o.database, names: TTL_TABLES.map(([name]) => storageTable(o, name)) },
    format: 'JSONCompactEachRow',
  });
  const engines = new Map(((await rs.json()) as [string, string][]).map(([n, e]) => [n, e]));
  const ttl = ttlStatements(o);
  for (let i = 0; i < TTL_TABLES.length; i++) {
    const [name, column] = TTL_TABLES[i]!;
    const engineFull = engines.get(storageTable(o, name));
    if (engineFull === undefined) continue;
    const haveTtl = /\bTTL (.+?)(?: SETTINGS |$)/.exec(engineFull)?.[1]?.trim() ?? '';
    if (haveTtl !== ttlExpression(o, column)) await command(client, ttl[i]!, undefined, { materialize_ttl_after_modify: 0 });
    if (/\bfsync_after_insert = 1\b/.test(engineFull) !== fsync) await command(client, fsyncStatement(o, name, fsync));
  }
}

async function command(client: ClickHouseClient, query: string, params?: Record<string, unknown>, settings?: Record<string, unknown>): Promise<void> {
  await client.command({ query, ...(params ? { query_params: params } : {}), ...(settings ? { clickhouse_settings: settings as never } : {}) });
}
