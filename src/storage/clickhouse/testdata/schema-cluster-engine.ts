/**
 * TEST HELPER (run as a child process by ../schema.test.ts): Skua's cluster-mode schema and SQL
 * against an embedded engine whose configuration defines clusters, macros and an in-memory Keeper.
 * chDB is one engine per process and its Keeper threads keep the process alive, hence a child.
 *
 * - `repl` database: the cluster DDL as generated (ON CLUSTER removed: the embedded engine has no
 *   distributed DDL queue; every statement is also parsed WITH it). The engine checks the
 *   Replicated*MergeTree definitions (macros expanded) and the Distributed tables. Replicated tables
 *   stay read-only here (replication needs an interserver port the embedded engine has not), so
 *   ALTERs and INSERTs are not run on them.
 * - `two` / `one` databases: the same DDL with the Replicated engines replaced by their
 *   non-replicated twins, under a two-shard and a one-shard cluster whose shards are all this
 *   engine: a ClickHouseStore in cluster mode then reads (two shards) and writes and reads (one
 *   shard) through the Distributed tables with the store's own SQL.
 *
 * argv[2]: a JSON object { path } (data directory). Prints one JSON line (see `Report`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allStatements, ttlStatements, SCHEMA_VERSION, type SchemaOptions } from '../schema.js';
import { ClickHouseStore } from '../clickhouse.js';
import { createDefaultConfig } from '../config.js';
import { baseTime, makeResourceSpans, makeSpan, newTraceId, str, traces, collect } from '../../conformance.js';
import { SpanKind } from '../../../pdata/model.js';

const CLUSTER = 'skua-prod';
const ONE_SHARD = 'skua-one';

const { path } = JSON.parse(process.argv[2] ?? '{}') as { path: string };
const cfg = join(path, '..', 'engine.xml');
writeFileSync(
  cfg,
  `<clickhouse>
  <tcp_port>9000</tcp_port>
  <remote_servers>
    <${CLUSTER}>
      <shard><replica><host>localhost</host><port>9000</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>9000</port></replica></shard>
    </${CLUSTER}>
    <${ONE_SHARD}>
      <shard><replica><host>localhost</host><port>9000</port></replica></shard>
    </${ONE_SHARD}>
  </remote_servers>
  <macros><shard>shard-07</shard><replica>replica-a</replica></macros>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
</clickhouse>
`,
);

const { Session } = (await import('chdb')) as unknown as {
  Session: new (path: string, opts: { connectionArgs: string[] }) => { queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }> };
};
const s = new Session(path, { connectionArgs: [`--config-file=${cfg}`] });

async function rows<T>(sql: string): Promise<T[]> {
  const text = (await s.queryAsync(sql, { format: 'JSONEachRow' })).text().trim();
  return text ? text.split('\n').map((l) => JSON.parse(l) as T) : [];
}
function msg(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 400);
}

export interface Report {
  clusterHosts: { cluster: string; shard_num: number; is_local: number }[];
  /** Every generated cluster statement: the engine's formatting of it, or its parse error. */
  parsed: { statement: string; formatted?: string; error?: string }[];
  /** Statements the engine refused to run (ON CLUSTER removed). */
  createErrors: { statement: string; error: string }[];
  tables: { name: string; engine: string; engine_full: string; create_table_query: string }[];
  replicas: { table: string; zookeeper_path: string; replica_name: string }[];
  columns: { table: string; name: string; type: string }[];
  /** Calls of a cluster-mode store over the two-shard cluster: 'ok' or the error. */
  twoShardReads: Record<string, string>;
  /** One-shard cluster: rows in the local tables after writes through the store, and reads. */
  oneShard: { error?: string; local?: Record<string, number>; reads?: Record<string, unknown> };
}

const report: Report = { clusterHosts: [], parsed: [], createErrors: [], tables: [], replicas: [], columns: [], twoShardReads: {}, oneShard: {} };
report.clusterHosts = await rows(`SELECT cluster, shard_num, is_local FROM system.clusters WHERE cluster IN ('${CLUSTER}', '${ONE_SHARD}') ORDER BY cluster, shard_num`);

const repl: SchemaOptions = { database: 'repl', ttlSeconds: 604800, cluster: CLUSTER };
const generated = [...allStatements(repl), ...ttlStatements(repl), ...ttlStatements({ ...repl, ttlSeconds: 0 })];
for (const statement of generated) {
  try {
    const [r] = await rows<{ f: string }>(`SELECT formatQuery('${statement.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}') AS f`);
    report.parsed.push({ statement, formatted: r!.f });
  } catch (e) {
    report.parsed.push({ statement, error: msg(e) });
  }
}

/** Runs the DDL of `o` with ON CLUSTER removed; `plain` swaps Replicated engines for non-replicated ones. */
async function create(o: SchemaOptions, plain: boolean): Promise<void> {
  for (const st of allStatements(o)) {
    let local = st.replace(/ ON CLUSTER `[^`]+`/g, '');
    if (plain) local = local.replace(/Replicated(\w*)MergeTree\('[^']*', '[^']*'\)/g, '$1MergeTree');
    else if (/^(ALTER|INSERT) /.test(local)) continue; // read-only replicated tables (see above)
    try {
      await s.queryAsync(local);
    } catch (e) {
      report.createErrors.push({ statement: st.split('\n')[0]!, error: msg(e) });
    }
  }
  if (plain) {
    await s.queryAsync(
      `INSERT INTO \`${o.database}\`.skua_schema_version (Version, Description) SELECT number + 1, 'test' FROM numbers(${SCHEMA_VERSION})`,
    );
  }
}

await create(repl, false);
report.tables = await rows(`SELECT name, engine, engine_full, create_table_query FROM system.tables WHERE database = 'repl' ORDER BY name`);
report.replicas = await rows(`SELECT table, zookeeper_path, replica_name FROM system.replicas WHERE database = 'repl' ORDER BY table`);
report.columns = await rows(`SELECT table, name, type FROM system.columns WHERE database = 'repl' ORDER BY table, position`);

const ctx = { tenant: '' };
function store(database: string, cluster: string): ClickHouseStore {
  return new ClickHouseStore({ config: { ...createDefaultConfig(), embedded: { path }, database, cluster, create_schema: false, write: { ...createDefaultConfig().write, wal: false } }, name: `cluster-${database}` });
}

// Two shards: every read of the store, as the query service calls it (with and without hints).
await create({ database: 'two', ttlSeconds: 604800, cluster: CLUSTER }, true);
{
  const st = store('two', CLUSTER);
  await st.start();
  const t0 = baseTime();
  const id = newTraceId();
  const calls: Record<string, () => Promise<unknown>> = {
    getServices: () => st.getServices(ctx),
    getOperations: () => st.getOperations({ serviceName: 'svc' }, ctx),
    findTraceIds: () => collect(st.findTraceIds({ serviceName: 'svc', searchDepth: 10 }, ctx)),
    'findTraceIds by attribute': () => collect(st.findTraceIds({ attributes: new Map([['k', 'v']]), searchDepth: 10, startTimeMin: t0 - 10n ** 12n, startTimeMax: t0 }, ctx)),
    'getTraces by id': () => collect(st.getTraces([{ traceId: id }], ctx)),
    'getTraces with time hints': () => collect(st.getTraces([{ traceId: id, start: t0, end: t0 + 10n ** 9n }], ctx)),
    getDependencies: () => st.getDependencies({ start: t0 - 10n ** 12n, end: t0 }, ctx),
  };
  for (const [name, call] of Object.entries(calls)) {
    try {
      await call();
      report.twoShardReads[name] = 'ok';
    } catch (e) {
      report.twoShardReads[name] = msg(e);
    }
  }
  await st.close();
}

// One shard: writes go through the Distributed tables; every row lands once in the local tables.
await create({ database: 'one', ttlSeconds: 604800, cluster: ONE_SHARD }, true);
try {
  const st = store('one', ONE_SHARD);
  await st.start();
  const t0 = baseTime();
  const id = newTraceId();
  const root = makeSpan({ traceId: id, name: 'GET /', kind: SpanKind.SERVER, start: t0 });
  await st.writeTraces(
    traces(
      makeResourceSpans({ service: 'frontend', resourceAttributes: [str('host.name', 'h1')] }, [root]),
      makeResourceSpans({ service: 'backend' }, [makeSpan({ traceId: id, parentSpanId: root.spanId, name: 'work', kind: SpanKind.SERVER, start: t0 + 1000n, attributes: [str('k', 'v')] })]),
    ),
    ctx,
  );
  const local: Record<string, number> = {};
  for (const t of ['otel_traces_local', 'otel_traces_trace_id_ts_local', 'skua_operations_local', 'skua_attribute_keys_local']) {
    const [r] = await rows<{ n: string }>(`SELECT toString(count()) AS n FROM one.${t}`);
    local[t] = Number(r!.n);
  }
  const spansOf = async (p: Parameters<ClickHouseStore['getTraces']>[0]) =>
    (await collect(st.getTraces(p, ctx))).map((td) => td.spanCount);
  const reads: Record<string, unknown> = {
    services: await st.getServices(ctx),
    byId: await spansOf([{ traceId: id }]),
    byHint: await spansOf([{ traceId: id, start: t0, end: t0 + 10_000n }]),
    byAttribute: (await collect(st.findTraceIds({ serviceName: 'backend', attributes: new Map([['k', 'v']]), searchDepth: 5 }, ctx))).map((f) => f.traceId === id),
    byResourceAttribute: (await collect(st.findTraceIds({ attributes: new Map([['host.name', 'h1']]), searchDepth: 5 }, ctx))).map((f) => f.traceId === id),
    dependencies: await st.getDependencies({ start: t0 - 10n ** 9n, end: t0 + 10n ** 9n }, ctx),
  };
  report.oneShard = { local, reads };
  await st.close();
} catch (e) {
  report.oneShard = { error: msg(e) };
}

process.stdout.write(JSON.stringify(report) + '\n');
