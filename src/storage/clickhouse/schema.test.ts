/**
 * The generated DDL, single-server and cluster mode, and what the engine makes of it.
 *
 * Cluster mode is checked three ways: (1) the statements themselves (ON CLUSTER everywhere,
 * Replicated*MergeTree with {shard}/{replica} macros and unique Keeper paths for the local tables,
 * Distributed tables sharded by cityHash64(TraceId), materialized views between local tables);
 * (2) an embedded engine configured with clusters, macros and an in-memory Keeper parses every
 * statement with its ON CLUSTER clause and creates the tables (child process
 * testdata/schema-cluster-engine.ts); (3) a cluster-mode store runs its own read SQL over a
 * two-shard Distributed schema, and writes and reads through a one-shard one.
 * Not checked (no ClickHouse servers here): the distributed DDL queue, replication, inserts into
 * Replicated tables, shards on other hosts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createDefaultConfig, ttlSeconds, type Config } from './config.js';
import { MIGRATIONS, MINUTE_KEY, SECOND_KEY, T, allStatements, timeKeyOf, ttlStatements, type SchemaOptions } from './schema.js';
import type { Report } from './testdata/schema-cluster-engine.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The data tables, their TTL column and the sharding key their Distributed table must use. */
const DATA_TABLES = [
  { name: T.spans, ttl: 'Timestamp', shard: 'cityHash64(TraceId)' },
  { name: T.traceIdTs, ttl: 'Start', shard: 'cityHash64(TraceId)' },
  { name: T.operations, ttl: 'Date', shard: undefined },
  { name: T.attributeKeys, ttl: 'Date', shard: undefined },
] as const;

function schemaOf(over: Partial<Config>): SchemaOptions {
  const c = { ...createDefaultConfig(), ...over };
  return { database: c.database, ttlSeconds: ttlSeconds(c), cluster: c.cluster };
}

/** The CREATE TABLE statement of `table` (exact name) among `stmts`. */
function createOf(stmts: readonly string[], table: string): string {
  const found = stmts.filter((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS \`skua\`.\`${table}\``));
  assert.equal(found.length, 1, `exactly one CREATE TABLE for ${table}, found ${found.length}`);
  return found[0]!;
}

describe('clickhouse schema DDL', () => {
  test('single server: no ON CLUSTER, no Replicated or Distributed engine, no _local tables', () => {
    const stmts = [...allStatements(schemaOf({})), ...ttlStatements(schemaOf({}))];
    assert.ok(stmts.length > 5, `${stmts.length} statements`);
    for (const s of stmts) {
      const head = s.split('\n')[0]!;
      assert.doesNotMatch(s, /ON CLUSTER/, head);
      assert.doesNotMatch(s, /Replicated|Distributed/, head);
      assert.doesNotMatch(s, /_local`/, head);
    }
    for (const t of DATA_TABLES) assert.match(createOf(stmts, t.name), /ENGINE = (\w*)MergeTree\n/, t.name);
  });

  test('cluster: every DDL statement runs ON CLUSTER; each data table is a Replicated local table plus a Distributed one', () => {
    const o = schemaOf({ cluster: 'prod' });
    const stmts = allStatements(o);
    for (const s of [...stmts, ...ttlStatements(o)]) {
      if (/^INSERT /.test(s)) continue; // data backfill of a migration: runs once, through the Distributed tables
      assert.match(s, /^(CREATE (DATABASE|TABLE|MATERIALIZED VIEW)|ALTER TABLE)( IF NOT EXISTS)? `skua`(\.`\w+`)? ON CLUSTER `prod`/, s.split('\n')[0]);
    }
    for (const t of DATA_TABLES) {
      const local = createOf(stmts, `${t.name}_local`);
      const m = /ENGINE = Replicated(\w*)MergeTree\('([^']+)', '([^']+)'\)/.exec(local);
      assert.ok(m, `${t.name}_local uses a Replicated*MergeTree engine:\n${local}`);
      assert.equal(m[2], `/clickhouse/tables/{shard}/skua/${t.name}_local`, `${t.name}_local: Keeper path per shard, database and table`);
      assert.equal(m[3], '{replica}');
      const dist = createOf(stmts, t.name);
      assert.match(dist, new RegExp(`AS \`skua\`\\.\`${t.name}_local\`\\nENGINE = Distributed\\(\`prod\`, \`skua\`, \`${t.name}_local\`, `), t.name);
      if (t.shard) assert.ok(dist.endsWith(`, ${t.shard})`), `${t.name} is sharded by ${t.shard}: ${dist}`);
    }
    // Two tables on one Keeper path would be replicas of each other.
    const paths = [...stmts.join('\n').matchAll(/Replicated\w*MergeTree\('([^']+)'/g)].map((x) => x[1]);
    assert.equal(new Set(paths).size, paths.length, `Keeper paths are unique: ${paths.join(', ')}`);
    // The paths include the database: two Skua databases on one cluster do not collide.
    const other = allStatements(schemaOf({ cluster: 'prod', database: 'skua_b' })).join('\n');
    for (const p of paths) assert.ok(!other.includes(`'${p}'`), `${p} is used by another database too`);
  });

  test('cluster: materialized views read and write the local tables (each shard aggregates its own rows)', () => {
    const stmts = allStatements(schemaOf({ cluster: 'prod' }));
    const mvs = stmts.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    assert.equal(mvs.length, 2);
    for (const mv of mvs) {
      assert.match(mv, /^CREATE MATERIALIZED VIEW IF NOT EXISTS `skua`\.`\w+_local` ON CLUSTER `prod` TO `skua`\.`\w+_local`\n/, mv);
      assert.match(mv, /FROM `skua`\.`otel_traces_local`/, mv);
    }
  });

  for (const cluster of ['', 'prod']) {
    const mode = cluster ? 'cluster' : 'single server';
    test(`TTL (${mode}): ttl 168h puts a TTL with whole-part drops on every data table; 0s puts none`, () => {
      const week = allStatements(schemaOf({ cluster, ttl: '168h' }));
      for (const t of DATA_TABLES) {
        const c = createOf(week, cluster ? `${t.name}_local` : t.name);
        assert.match(c, new RegExp(`\\nTTL toDateTime\\(${t.ttl}\\) \\+ toIntervalSecond\\(604800\\)\\n`), t.name);
        assert.match(c, /SETTINGS .*ttl_only_drop_parts = 1/, `${t.name}: expired data is dropped by whole parts`);
      }
      const forever = allStatements(schemaOf({ cluster, ttl: '0s' }));
      for (const s of forever) assert.doesNotMatch(s, /\bTTL\b/, s.split('\n')[0]);
      assert.ok(ttlStatements(schemaOf({ cluster, ttl: '0s' })).every((s) => / REMOVE TTL$/.test(s)), 'ttl 0s removes the TTL of an existing store');
      assert.ok(ttlStatements(schemaOf({ cluster, ttl: '24h' })).every((s) => /MODIFY TTL toDateTime\(\w+\) \+ toIntervalSecond\(86400\)$/.test(s)), 'a TTL change is applied to an existing store');
    });
  }

  test('the reader takes the time key from the span table: the minute for stores of earlier releases, else the second', () => {
    assert.equal(timeKeyOf('Tenant, toStartOfMinute(Timestamp), TraceId, Timestamp'), MINUTE_KEY);
    assert.equal(timeKeyOf('Tenant, toDateTime(Timestamp), TraceId, Timestamp'), SECOND_KEY);
    const ddl = MIGRATIONS[0]!.statements({ database: 'd', ttlSeconds: 0, cluster: '' })[0]!;
    assert.match(ddl, /ORDER BY \(Tenant, toDateTime\(Timestamp\), TraceId, Timestamp\)/, 'new stores sort by the second');
  });

  test('migrations are numbered 1..n without gaps', () => {
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
  });
});

describe('clickhouse cluster schema in an engine configured with clusters', () => {
  let r: Report;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skua-ch-schema-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/storage/clickhouse/testdata/schema-cluster-engine.ts', JSON.stringify({ path: join(dir, 'data') })], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`schema-cluster-engine exited (${code}): ${stderr}`)));
        setTimeout(() => reject(new Error(`schema-cluster-engine timed out: ${stderr}`)), 60_000).unref();
      });
      r = JSON.parse(line) as Report;
    } finally {
      child.kill('SIGKILL'); // Keeper threads keep an embedded engine with a cluster alive
      await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(undefined) : child.once('exit', res)));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the engine knows the configured clusters', () => {
    assert.deepEqual(
      r.clusterHosts.map((h) => `${h.cluster}/${h.shard_num}`),
      ['skua-one/1', 'skua-prod/1', 'skua-prod/2'],
    );
  });

  test('every generated statement parses with its ON CLUSTER clause (cluster name quoted)', () => {
    assert.ok(r.parsed.length >= 15, `${r.parsed.length} statements`);
    assert.deepEqual(r.parsed.filter((p) => p.error).map((p) => `${p.statement.split('\n')[0]}: ${p.error}`), []);
    for (const p of r.parsed) if (!/^INSERT /.test(p.statement)) assert.match(p.formatted!, /ON CLUSTER `skua-prod`/, p.statement.split('\n')[0]);
  });

  test('created: Replicated local tables with {shard}/{replica} expanded, Distributed tables with the same columns, views on local tables', () => {
    assert.deepEqual(r.createErrors, []);
    const tables = new Map(r.tables.map((x) => [x.name, x]));
    const columns = (table: string) => r.columns.filter((c) => c.table === table).map((c) => `${c.name} ${c.type}`);
    for (const d of DATA_TABLES) {
      const local = tables.get(`${d.name}_local`);
      assert.ok(local, `${d.name}_local created`);
      assert.match(local.engine, /^Replicated\w*MergeTree$/, d.name);
      assert.match(local.engine_full, new RegExp(`TTL toDateTime\\(${d.ttl}\\) \\+ toIntervalSecond\\(604800\\)`), `${d.name}_local TTL`);
      assert.match(local.engine_full, /ttl_only_drop_parts = 1/, `${d.name}_local drops whole parts`);
      const replica = r.replicas.find((x) => x.table === `${d.name}_local`);
      assert.equal(replica?.zookeeper_path, `/clickhouse/tables/shard-07/repl/${d.name}_local`, `${d.name}_local: {shard} expanded`);
      assert.equal(replica?.replica_name, 'replica-a', `${d.name}_local: {replica} expanded`);
      const dist = tables.get(d.name);
      assert.equal(dist?.engine, 'Distributed', d.name);
      assert.ok(dist.engine_full.startsWith(`Distributed('skua-prod', 'repl', '${d.name}_local', `), `${d.name}: Distributed over the local table: ${dist.engine_full}`);
      if (d.shard) assert.ok(dist.engine_full.endsWith(`, ${d.shard})`), `${d.name} sharded by ${d.shard}: ${dist.engine_full}`);
      assert.ok(columns(d.name).length > 3, `${d.name}: columns listed`);
      assert.deepEqual(columns(d.name), columns(`${d.name}_local`), `${d.name}: the Distributed table has the local table's columns`);
    }
    for (const mv of ['otel_traces_trace_id_ts_mv_local', 'skua_operations_mv_local']) {
      const q = tables.get(mv)?.create_table_query ?? '';
      assert.match(q, /TO repl\.\w+_local/, `${mv} writes a local table`);
      assert.match(q, /FROM repl\.otel_traces_local/, `${mv} reads the local span table`);
    }
    assert.equal(tables.get(T.version)?.engine, 'ReplicatedMergeTree');
  });

  test('a cluster-mode store writes through the Distributed tables and reads back (one shard)', () => {
    assert.equal(r.oneShard.error, undefined, r.oneShard.error);
    const local = r.oneShard.local ?? {};
    assert.equal(local['otel_traces_local'], 2, 'each span lands once');
    assert.equal(local['otel_traces_trace_id_ts_local'], 1, 'the trace-id lookup view fired on the local table');
    assert.equal(local['skua_operations_local'], 2, 'the operations view fired on the local table');
    assert.ok((local['skua_attribute_keys_local'] ?? 0) >= 1, 'resource attribute keys recorded');
    assert.deepEqual(r.oneShard.reads, {
      services: ['backend', 'frontend'],
      byId: [2],
      byHint: [2],
      byAttribute: [true],
      byResourceAttribute: [true],
      dependencies: [{ parent: 'frontend', child: 'backend', callCount: 1 }],
    });
  });

  // A subquery over a Distributed table inside a query over another Distributed table is refused
  // by ClickHouse when there are several shards (distributed_product_mode = 'deny', the default)
  // unless the SQL says GLOBAL or reads the local table in the subquery.
  test('every read of a cluster-mode store works over two shards', () => {
    assert.deepEqual(Object.keys(r.twoShardReads).length, 7);
    assert.deepEqual(
      Object.entries(r.twoShardReads).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${v}`),
      [],
    );
  });
});
