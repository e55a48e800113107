/**
 * The ClickHouse schema of Skua: DDL for one server (or the embedded engine) and for a cluster,
 * as versioned migrations. See docs/storage.md ("Schema") for the reasoning behind each choice.
 *
 * Tables (database `skua` by default):
 * - `otel_traces`: one row per span with the OpenTelemetry Collector ClickHouse exporter's columns
 *   and types (Grafana's ClickHouse data source reads it as is), plus `Tenant`, `ScopeAttributes`,
 *   `ResourceSchemaUrl`, `ScopeSchemaUrl` and `Extra` (what makes the round trip lossless).
 *   Sorted by (Tenant, second, TraceId, Timestamp) (stores of earlier releases: the minute):
 *   the spans of a trace sit together (fast get-trace, ids and per-trace values compress well),
 *   and the time prefix lets time windows prune for searches (see TimeKey).
 * - `otel_traces_trace_id_ts`: trace id → [first, last] span start (materialized view).
 * - `skua_operations`: (tenant, service, span name, kind, day) → first/last seen and span count
 *   (materialized view): services, operations and the time bounds searches start from.
 * - `skua_schema_version`: applied migrations.
 *
 * Cluster mode (`cluster: NAME`): every DDL runs ON CLUSTER; data tables are `<name>_local`
 * (Replicated*MergeTree) with a Distributed table `<name>` over them, sharded by
 * cityHash64(TraceId) so a trace and its lookup row live on one shard. Queries and inserts use the
 * Distributed names, so the SQL of the reader and writer is the same in both modes.
 */

export interface SchemaOptions {
  readonly database: string;
  /** Retention in seconds; 0 = forever. */
  readonly ttlSeconds: number;
  /** '' for a single server / embedded. */
  readonly cluster: string;
  /** The embedded engine, which Skua configures itself (its compression by part size: client.ts). */
  readonly embedded?: boolean;
}

/** Latest schema version this code writes and reads. */
export const SCHEMA_VERSION = 7;

export const T = {
  spans: 'otel_traces',
  traceIdTs: 'otel_traces_trace_id_ts',
  traceIdTsMv: 'otel_traces_trace_id_ts_mv',
  operations: 'skua_operations',
  operationsMv: 'skua_operations_mv',
  version: 'skua_schema_version',
  attributeKeys: 'skua_attribute_keys',
} as const;

/** Rows per granule of the span table: a trace lookup reads one granule. */
export const INDEX_GRANULARITY = 2048;

/**
 * The time bucket of the span table's sort key (Tenant, bucket, TraceId, Timestamp). Conditions
 * name the bucket explicitly (ClickHouse does not derive it from a Timestamp range), so the reader
 * asks the table which one it has (`timeKeyOf`): stores created by earlier Skua releases sort by
 * the minute, newer ones by the second. Either way every condition is exact; the key decides only
 * which granules are read.
 */
export interface TimeKey {
  /** The key expression, as in ORDER BY. */
  readonly expr: string;
  /** The bucket's width. */
  readonly seconds: number;
  /** The bucket of a DateTime or DateTime64 SQL expression. */
  bucket(x: string): string;
}

/**
 * Seconds: within a bucket rows are sorted by trace id, so the newest traces of a search lie in
 * the last few seconds' granules (~2.7 for 20 traces, against ~8.3 when the bucket is a minute):
 * measured on a copy of the benchmark's last 40 minutes, the span fetch of a search by service
 * took 16.8 instead of 23.1 ms at p50 and its id query 8.4 instead of 11.7; size +0.05%.
 */
export const SECOND_KEY: TimeKey = { expr: 'toDateTime(Timestamp)', seconds: 1, bucket: (x) => `toDateTime(${x})` };
export const MINUTE_KEY: TimeKey = { expr: 'toStartOfMinute(Timestamp)', seconds: 60, bucket: (x) => `toStartOfMinute(${x})` };

/** The time key of a span table from its `sorting_key` (system.tables). */
export function timeKeyOf(sortingKey: string): TimeKey {
  return sortingKey.includes(MINUTE_KEY.expr) ? MINUTE_KEY : SECOND_KEY;
}

/**
 * The attribute tokens the skip index holds: `key=value` of a span's own and its events'
 * attributes. A query's `has(ATTR_TOKENS, 'k=v')` must repeat the index expression exactly for
 * ClickHouse to use the index. Resource, scope and link attributes are left out on purpose: they
 * are searched by the exact condition alone (resource values repeat over many spans, so a bloom
 * filter would rarely skip a granule for them, and indexing them doubled the index's insert and
 * merge cost).
 */
export const ATTR_TOKENS =
  "arrayConcat(arrayMap((k, v) -> concat(k, '=', v), mapKeys(SpanAttributes), mapValues(SpanAttributes)), " +
  "arrayFlatten(arrayMap(m -> arrayMap((k, v) -> concat(k, '=', v), mapKeys(m), mapValues(m)), `Events.Attributes`)))";

export interface Migration {
  readonly version: number;
  readonly description: string;
  statements(o: SchemaOptions): string[];
}

function q(id: string): string {
  return '`' + id.replace(/`/g, '``') + '`';
}

function onCluster(o: SchemaOptions): string {
  return o.cluster ? ` ON CLUSTER ${q(o.cluster)}` : '';
}

/** Name of the table that holds the data (the local one in cluster mode). */
export function storageTable(o: SchemaOptions, name: string): string {
  return o.cluster ? `${name}_local` : name;
}

/** Fully qualified name queries and inserts use (the Distributed table in cluster mode). */
export function tableRef(o: Pick<SchemaOptions, 'database'>, name: string): string {
  return `${q(o.database)}.${q(name)}`;
}

function engine(o: SchemaOptions, kind: '' | 'Aggregating', name: string): string {
  if (!o.cluster) return `${kind}MergeTree`;
  return `Replicated${kind}MergeTree('/clickhouse/tables/{shard}/${o.database}/${storageTable(o, name)}', '{replica}')`;
}

function ttlClause(o: SchemaOptions, column: string): string {
  return o.ttlSeconds > 0 ? `\nTTL toDateTime(${column}) + toIntervalSecond(${o.ttlSeconds})` : '';
}

/** The TTL expression of a table with this TTL column, as ClickHouse shows it in `engine_full` ('' = none). */
export function ttlExpression(o: SchemaOptions, column: string): string {
  return o.ttlSeconds > 0 ? `toDateTime(${column}) + toIntervalSecond(${o.ttlSeconds})` : '';
}

/** A Distributed table over `<name>_local` (cluster mode only). */
function distributed(o: SchemaOptions, name: string, shardingKey: string): string[] {
  if (!o.cluster) return [];
  return [
    `CREATE TABLE IF NOT EXISTS ${tableRef(o, name)}${onCluster(o)} AS ${tableRef(o, storageTable(o, name))}\n` +
      `ENGINE = Distributed(${q(o.cluster)}, ${q(o.database)}, ${q(storageTable(o, name))}, ${shardingKey})`,
  ];
}

const SPAN_COLUMNS = `
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), LowCardinality(String)) CODEC(ZSTD(1)),
    ScopeName LowCardinality(String) CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(9)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    Extra LowCardinality(String) CODEC(ZSTD(1))`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'spans, trace id time ranges, operations',
    statements(o) {
      const spans = storageTable(o, T.spans);
      const tits = storageTable(o, T.traceIdTs);
      const ops = storageTable(o, T.operations);
      return [
        `CREATE TABLE IF NOT EXISTS ${tableRef(o, spans)}${onCluster(o)} (${SPAN_COLUMNS}\n)\n` +
          `ENGINE = ${engine(o, '', T.spans)}\n` +
          `PARTITION BY toDate(Timestamp)\n` +
          // Earlier releases created it with MINUTE_KEY. A sort key cannot be changed in place: those
          // stores keep theirs, and the reader follows the table.
          `ORDER BY (Tenant, ${SECOND_KEY.expr}, TraceId, Timestamp)` +
          ttlClause(o, 'Timestamp') +
          `\nSETTINGS index_granularity = ${INDEX_GRANULARITY}, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000,` +
          // Merge less eagerly (more parts at once, fewer rewrites of each row): merges were ~40%
          // of the CPU of ingest with the defaults.
          ` merge_selector_base = 20, min_parts_to_merge_at_once = 8`,
        ...distributed(o, T.spans, 'cityHash64(TraceId)'),
        `CREATE TABLE IF NOT EXISTS ${tableRef(o, tits)}${onCluster(o)} (
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
)\n` +
          `ENGINE = ${engine(o, 'Aggregating', T.traceIdTs)}\n` +
          `PARTITION BY toDate(Start)\n` +
          `ORDER BY (Tenant, TraceId)` +
          ttlClause(o, 'Start') +
          `\nSETTINGS index_granularity = 1024, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000`,
        ...distributed(o, T.traceIdTs, 'cityHash64(TraceId)'),
        `CREATE MATERIALIZED VIEW IF NOT EXISTS ${tableRef(o, storageTable(o, T.traceIdTsMv))}${onCluster(o)} TO ${tableRef(o, tits)}\n` +
          `AS SELECT Tenant, TraceId, toDateTime(min(Timestamp)) AS Start, toDateTime(max(Timestamp)) + 1 AS End FROM ${tableRef(o, spans)} GROUP BY Tenant, TraceId`,
        `CREATE TABLE IF NOT EXISTS ${tableRef(o, ops)}${onCluster(o)} (
    Tenant LowCardinality(String),
    ServiceName LowCardinality(String),
    SpanName LowCardinality(String),
    SpanKind LowCardinality(String),
    Date Date,
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)),
    Spans SimpleAggregateFunction(sum, UInt64)
)\n` +
          `ENGINE = ${engine(o, 'Aggregating', T.operations)}\n` +
          `PARTITION BY Date\n` +
          `ORDER BY (Tenant, ServiceName, SpanName, SpanKind)` +
          ttlClause(o, 'Date') +
          `\nSETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000`,
        ...distributed(o, T.operations, 'rand()'),
        `CREATE MATERIALIZED VIEW IF NOT EXISTS ${tableRef(o, storageTable(o, T.operationsMv))}${onCluster(o)} TO ${tableRef(o, ops)}\n` +
          `AS SELECT Tenant, ServiceName, SpanName, SpanKind, toDate(Timestamp) AS Date, min(Timestamp) AS FirstSeen, max(Timestamp) AS LastSeen, count() AS Spans\n` +
          `FROM ${tableRef(o, spans)} GROUP BY Tenant, ServiceName, SpanName, SpanKind, Date`,
      ];
    },
  },
  {
    version: 2,
    description: 'attribute search: index of span and event attributes, keys of the others',
    statements(o) {
      const keys = storageTable(o, T.attributeKeys);
      return [
        // Added to existing parts lazily: older parts are searched without the index (still correct).
        `ALTER TABLE ${tableRef(o, storageTable(o, T.spans))}${onCluster(o)} ADD INDEX IF NOT EXISTS idx_attr_tokens ${ATTR_TOKENS} TYPE bloom_filter(0.01) GRANULARITY 4`,
        // Which keys occur in resource, scope or link attributes (written by Skua before the spans
        // that carry them): a search for any other key relies on the index alone.
        `CREATE TABLE IF NOT EXISTS ${tableRef(o, keys)}${onCluster(o)} (
    Tenant LowCardinality(String),
    Source LowCardinality(String),
    Key String,
    Date Date
)\n` +
          `ENGINE = ${o.cluster ? `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${o.database}/${keys}', '{replica}')` : 'ReplacingMergeTree'}\n` +
          `PARTITION BY Date\nORDER BY (Tenant, Key, Source)` +
          ttlClause(o, 'Date') +
          `\nSETTINGS ttl_only_drop_parts = 1`,
        ...distributed(o, T.attributeKeys, 'rand()'),
        // Keys of the spans already stored (a store upgraded from version 1).
        `INSERT INTO ${tableRef(o, T.attributeKeys)} (Tenant, Source, Key, Date)\n` +
          `SELECT DISTINCT Tenant, sk.1, sk.2, toDate(Timestamp) FROM ${tableRef(o, T.spans)}\n` +
          `ARRAY JOIN arrayConcat(arrayMap(k -> ('resource', k), mapKeys(ResourceAttributes)), arrayMap(k -> ('scope', k), mapKeys(ScopeAttributes)),` +
          ` arrayMap(k -> ('link', k), arrayFlatten(arrayMap(m -> mapKeys(m), \`Links.Attributes\`)))) AS sk`,
      ];
    },
  },
  {
    version: 3,
    description: 'fewer merges of the span table; smaller trace id time ranges',
    statements(o) {
      return [
        // Merges were about a third of the CPU of a sustained ingest: merging more parts at once
        // rewrites each row fewer times (~4% less CPU per stored span at 10M spans).
        `ALTER TABLE ${tableRef(o, storageTable(o, T.spans))}${onCluster(o)} MODIFY SETTING merge_selector_base = 40, min_parts_to_merge_at_once = 16`,
        // Rows sorted by trace id have random times: T64 packs their few significant bits (new parts on).
        `ALTER TABLE ${tableRef(o, storageTable(o, T.traceIdTs))}${onCluster(o)} MODIFY COLUMN Start CODEC(T64, ZSTD(1)), MODIFY COLUMN End CODEC(T64, ZSTD(1))`,
      ];
    },
  },
  {
    version: 4,
    description: 'smaller span table: stronger compression of ids, resources and events',
    statements(o) {
      return [
        // Measured per column on 10M spans (bytes per span, ZSTD(1) → new): SpanId 8.27 → 8.05,
        // TraceId 1.90 → 1.68, ResourceAttributes 1.29 → 1.04, Events.Timestamp 0.72 → 0.64,
        // Events.Attributes 0.66 → 0.57. ParentSpanId stays at ZSTD(1): higher levels made it larger.
        `ALTER TABLE ${tableRef(o, storageTable(o, T.spans))}${onCluster(o)}` +
          ' MODIFY COLUMN TraceId CODEC(ZSTD(3)), MODIFY COLUMN SpanId CODEC(ZSTD(3)), MODIFY COLUMN ResourceAttributes CODEC(ZSTD(3)),' +
          ' MODIFY COLUMN `Events.Timestamp` CODEC(Delta(8), ZSTD(1)), MODIFY COLUMN `Events.Attributes` CODEC(ZSTD(9))',
      ];
    },
  },
  {
    version: 5,
    description: 'trace id time ranges in smaller compressed blocks',
    statements(o) {
      return [
        // A lookup of a few trace ids reads one granule per id and part, but decompresses the whole
        // block holding it: with ClickHouse's default (blocks of at least 64 KiB) two to three
        // granules of ids. A block per granule: 20 time ranges 6.0 instead of 7.9 ms at 10M spans,
        // with the same size on disk (new parts on).
        `ALTER TABLE ${tableRef(o, storageTable(o, T.traceIdTs))}${onCluster(o)} MODIFY SETTING min_compress_block_size = 8192, max_compress_block_size = 65536`,
      ];
    },
  },
  {
    version: 6,
    description: 'embedded: attribute maps compressed hard only in merged parts',
    statements(o) {
      // The attribute maps' ZSTD(9) was compressing every INSERT, which a merge rewrites within
      // seconds. `Default` is the engine's choice by part size, which only the embedded engine is
      // configured for (engineConfigXml in client.ts: ZSTD(3) for INSERTs and small merges, ZSTD(9)
      // from BIG_PART_BYTES); a server's default is LZ4, so a server keeps ZSTD(9).
      if (!o.embedded) return [];
      return [`ALTER TABLE ${tableRef(o, storageTable(o, T.spans))} MODIFY COLUMN SpanAttributes CODEC(Default), MODIFY COLUMN \`Events.Attributes\` CODEC(Default)`];
    },
  },
  {
    version: 7,
    description: 'smaller span times',
    statements(o) {
      // Span start times within a second lie in trace id order (the sort key), so their deltas are
      // as random as the times: T64 (the bits that vary, transposed) packs them better. 2M spans
      // of a merged part, bytes per span (new parts on): Timestamp 3.81 → 3.56 with T64, ZSTD(6)
      // (and no more CPU than Delta, ZSTD(1)), Events.Timestamp 0.58 → 0.51.
      return [
        `ALTER TABLE ${tableRef(o, storageTable(o, T.spans))}${onCluster(o)}` +
          ' MODIFY COLUMN Timestamp CODEC(T64, ZSTD(6)), MODIFY COLUMN `Events.Timestamp` CODEC(T64, ZSTD(1))',
      ];
    },
  },
];

/** The version table (created first, before any migration). */
export function versionTableStatements(o: SchemaOptions): string[] {
  const eng = o.cluster
    ? `ReplicatedMergeTree('/clickhouse/tables/${o.database}/${T.version}', '{replica}')`
    : 'MergeTree';
  return [
    `CREATE DATABASE IF NOT EXISTS ${q(o.database)}${onCluster(o)}`,
    `CREATE TABLE IF NOT EXISTS ${tableRef(o, T.version)}${onCluster(o)} (
    Version UInt32,
    Description String,
    AppliedAt DateTime DEFAULT now(),
    SkuaVersion String
)\nENGINE = ${eng}\nORDER BY Version`,
  ];
}

/** Data tables and their TTL column. */
export const TTL_TABLES = [
  [T.spans, 'Timestamp'],
  [T.traceIdTs, 'Start'],
  [T.operations, 'Date'],
  [T.attributeKeys, 'Date'],
] as const;

/** Statements that set the TTL of every data table to `o.ttlSeconds` (for an existing store). */
export function ttlStatements(o: SchemaOptions): string[] {
  const out: string[] = [];
  for (const [name, col] of TTL_TABLES) {
    const table = `${tableRef(o, storageTable(o, name))}${onCluster(o)}`;
    out.push(o.ttlSeconds > 0 ? `ALTER TABLE ${table} MODIFY TTL toDateTime(${col}) + toIntervalSecond(${o.ttlSeconds})` : `ALTER TABLE ${table} REMOVE TTL`);
  }
  return out;
}

/** The statement that turns fsync of inserted parts on or off for one data table. */
export function fsyncStatement(o: SchemaOptions, name: string, on: boolean): string {
  const table = `${tableRef(o, storageTable(o, name))}${onCluster(o)}`;
  return on
    ? `ALTER TABLE ${table} MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1`
    : `ALTER TABLE ${table} RESET SETTING fsync_after_insert, fsync_part_directory`;
}

/** Every statement that creates the schema from nothing up to `version` (for tests and docs). */
export function allStatements(o: SchemaOptions, version = SCHEMA_VERSION): string[] {
  return [...versionTableStatements(o), ...MIGRATIONS.filter((m) => m.version <= version).flatMap((m) => m.statements(o))];
}
