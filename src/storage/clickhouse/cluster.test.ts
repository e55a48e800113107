/**
 * Cluster mode without a cluster: the generated DDL is (1) parsed by the engine as written, ON
 * CLUSTER included, and (2) created by an embedded engine configured with a cluster, macros and
 * an in-memory Keeper, which checks the Replicated and Distributed engine definitions.
 * What this cannot check (no ClickHouse servers here): the distributed DDL queue, replication and
 * inserts through Distributed tables — see docs/storage.md.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { allStatements, ttlStatements } from './schema.js';
import { newTestStore } from './testutil.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('clickhouse cluster DDL', () => {
  const o = { database: 'skua', ttlSeconds: 604800, cluster: 'prod_cluster' };

  test('every statement names the cluster and uses Replicated / Distributed engines', () => {
    const stmts = allStatements(o);
    for (const s of stmts) if (!/^INSERT /.test(s)) assert.match(s, /ON CLUSTER `prod_cluster`/, s.split('\n')[0]);
    const text = stmts.join('\n');
    assert.match(text, /CREATE TABLE IF NOT EXISTS `skua`\.`otel_traces_local` ON CLUSTER `prod_cluster`/);
    assert.match(text, /ReplicatedMergeTree\('\/clickhouse\/tables\/\{shard\}\/skua\/otel_traces_local', '\{replica\}'\)/);
    assert.match(text, /ReplicatedAggregatingMergeTree\('\/clickhouse\/tables\/\{shard\}\/skua\/otel_traces_trace_id_ts_local', '\{replica\}'\)/);
    assert.match(text, /ENGINE = Distributed\(`prod_cluster`, `skua`, `otel_traces_local`, cityHash64\(TraceId\)\)/);
    assert.match(text, /ENGINE = Distributed\(`prod_cluster`, `skua`, `otel_traces_trace_id_ts_local`, cityHash64\(TraceId\)\)/);
    assert.match(text, /CREATE MATERIALIZED VIEW IF NOT EXISTS `skua`\.`otel_traces_trace_id_ts_mv_local` ON CLUSTER `prod_cluster` TO `skua`\.`otel_traces_trace_id_ts_local`\nAS SELECT .* FROM `skua`\.`otel_traces_local`/);
    assert.match(text, /ALTER TABLE `skua`\.`otel_traces_local` ON CLUSTER `prod_cluster` ADD INDEX/);
    for (const s of ttlStatements(o)) assert.match(s, /^ALTER TABLE `skua`\.`\w+_local` ON CLUSTER `prod_cluster` MODIFY TTL/);
  });

  test('the engine parses every cluster statement as written', async () => {
    const store = newTestStore();
    await store.start();
    try {
      for (const s of [...allStatements(o), ...ttlStatements(o), ...ttlStatements({ ...o, ttlSeconds: 0 })]) {
        const rs = await store.clickhouse.query({ query: 'SELECT formatQuery({q:String})', query_params: { q: s }, format: 'JSONCompactEachRow' });
        const [[formatted]] = (await rs.json()) as [[string]];
        if (!/^INSERT /.test(s)) assert.match(formatted, /ON CLUSTER prod_cluster/, `ON CLUSTER parsed in: ${s.split('\n')[0]}`);
      }
    } finally {
      await store.close();
    }
  });

  test('an engine configured with a cluster creates the Replicated and Distributed tables', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/storage/clickhouse/testdata/cluster-ddl-check.ts', 'prod_cluster'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`cluster check exited (${code}): ${stderr}`)));
        setTimeout(() => reject(new Error(`cluster check timed out: ${stderr}`)), 120_000).unref();
      });
      const r = JSON.parse(line) as { tables: { name: string; engine: string; engine_full: string }[]; clusterHosts: number; alterChecks: number };
      assert.equal(r.clusterHosts, 3, 'the engine sees the configured cluster');
      assert.ok(r.alterChecks >= 9, 'the ALTERs (index, TTL) were checked');
      const by = new Map(r.tables.map((t) => [t.name, t]));
      assert.equal(by.get('otel_traces_local')?.engine, 'ReplicatedMergeTree');
      assert.match(by.get('otel_traces_local')!.engine_full, /ORDER BY \(Tenant, toDateTime\(Timestamp\), TraceId, Timestamp\)/);
      assert.equal(by.get('otel_traces')?.engine, 'Distributed');
      assert.match(by.get('otel_traces')!.engine_full, /Distributed\('prod_cluster', 'skua_cluster_db', 'otel_traces_local', cityHash64\(TraceId\)\)/);
      assert.equal(by.get('otel_traces_trace_id_ts_local')?.engine, 'ReplicatedAggregatingMergeTree');
      assert.equal(by.get('otel_traces_trace_id_ts')?.engine, 'Distributed');
      assert.equal(by.get('skua_operations_local')?.engine, 'ReplicatedAggregatingMergeTree');
      assert.equal(by.get('skua_attribute_keys_local')?.engine, 'ReplicatedReplacingMergeTree');
      assert.equal(by.get('skua_schema_version')?.engine, 'ReplicatedMergeTree');
      assert.equal(by.get('otel_traces_trace_id_ts_mv_local')?.engine, 'MaterializedView');
      assert.equal(by.get('skua_operations_mv_local')?.engine, 'MaterializedView');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
