/**
 * TEST HELPER (run as a child process by cluster.test.ts): creates Skua's cluster-mode schema in
 * an embedded engine whose configuration defines a two-shard cluster, macros and an in-memory
 * Keeper, so that the engine itself checks the Replicated*MergeTree and Distributed definitions.
 * `ON CLUSTER` is removed (the embedded engine has no distributed DDL queue; the test parses those
 * statements separately) and data statements (INSERT) are skipped. An ALTER of a Replicated table
 * waits for Keeper to commit it, which the in-memory one does not do: ALTERs run against a
 * non-replicated copy of the table (same columns, so the expressions are still checked). Prints one
 * JSON line: the tables created and their engines. The process is killed by the test (Keeper
 * threads keep it alive).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TTL_TABLES, allStatements, ttlStatements } from '../schema.js';

const cluster = process.argv[2] ?? 'skua_cluster';
const dir = mkdtempSync(join(tmpdir(), 'skua-cluster-ddl-'));
const cfg = join(dir, 'config.xml');
writeFileSync(
  cfg,
  `<clickhouse>
  <remote_servers>
    <${cluster}>
      <shard><replica><host>127.0.0.1</host><port>1</port></replica><replica><host>127.0.0.2</host><port>1</port></replica></shard>
      <shard><replica><host>127.0.0.3</host><port>1</port></replica></shard>
    </${cluster}>
  </remote_servers>
  <macros><shard>01</shard><replica>replica-1</replica></macros>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
</clickhouse>
`,
);
const { Session } = (await import('chdb')) as unknown as {
  Session: new (path: string, opts: { connectionArgs: string[] }) => { queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }> };
};
const s = new Session(join(dir, 'data'), { connectionArgs: [`--config-file=${cfg}`] });
const executed: string[] = [];
const o = { database: 'skua_cluster_db', ttlSeconds: 604800, cluster };
let copies = 0;
for (const stmt of [...allStatements(o), ...ttlStatements(o), ...ttlStatements({ ...o, ttlSeconds: 0 })]) {
  if (/^INSERT /.test(stmt)) continue;
  let local = stmt.replace(/ ON CLUSTER `[^`]+`/, '');
  const alter = /^ALTER TABLE (`[^`]+`\.`[^`]+`) /.exec(local);
  if (alter) {
    const copy = `\`skua_cluster_db\`.\`alter_check_${++copies}\``;
    // REMOVE TTL needs a table with a TTL to remove.
    const col = TTL_TABLES.find(([name]) => alter[1]!.endsWith(`.\`${name}_local\``))?.[1];
    const ttl = / REMOVE TTL/.test(local) && col ? ` TTL toDateTime(${col}) + 1` : '';
    await s.queryAsync(`CREATE TABLE ${copy} AS ${alter[1]} ENGINE = MergeTree ORDER BY tuple()${ttl}`);
    local = local.replace(alter[1]!, copy);
  }
  if (process.env['SKUA_DEBUG']) console.error('executing', local.split('\n')[0]);
  await s.queryAsync(local);
  executed.push(local.split('\n')[0]!.slice(0, 120));
}
const tables = JSON.parse(
  '[' +
    (await s.queryAsync("SELECT name, engine, engine_full FROM system.tables WHERE database = 'skua_cluster_db' AND name NOT LIKE 'alter_check_%' ORDER BY name", { format: 'JSONEachRow' }))
      .text()
      .trim()
      .split('\n')
      .filter(Boolean)
      .join(',') +
    ']',
);
const clusters = (await s.queryAsync(`SELECT count() FROM system.clusters WHERE cluster = '${cluster}'`, { format: 'TSV' })).text().trim();
process.stdout.write(JSON.stringify({ executed, alterChecks: copies, tables, clusterHosts: Number(clusters) }) + '\n');
