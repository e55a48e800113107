/**
 * Versioned schema migrations (migrate.ts) on the embedded engine, beyond clickhouse.test.ts:
 * what a fresh store records, that a restart applies nothing again, that an upgrade from an older
 * version keeps every tenant's data searchable, and that a store written by a newer Skua is
 * refused — with or without create_schema — before anything in it is changed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { baseTime, collect, makeResourceSpans, makeSpan, newSpanId, newTraceId, str, traces } from '../conformance.js';
import { ClickHouseStore } from './clickhouse.js';
import { MIGRATIONS, SCHEMA_VERSION, T } from './schema.js';
import { newTestStore, testConfig, withStore } from './testutil.js';
import type { Config } from './config.js';
import { version } from '../../service/version.js';

const ctx = { tenant: '' };

function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function rows<R>(s: ClickHouseStore, query: string): Promise<R[]> {
  const rs = await s.clickhouse.query({ query, format: 'JSONCompactEachRow' });
  return (await rs.json()) as R[];
}

async function scalar<R>(s: ClickHouseStore, query: string): Promise<R | undefined> {
  return (await rows<[R]>(s, query))[0]?.[0];
}

const versionRows = (s: ClickHouseStore, db: string) =>
  rows<[number, string, string]>(s, `SELECT Version, Description, toString(AppliedAt) FROM \`${db}\`.${T.version} ORDER BY Version, AppliedAt`);

const applied = (lines: Record<string, unknown>[]) => lines.filter((l) => /applying migration/.test(String(l['msg']))).map((l) => l['version']);

describe('clickhouse schema migrations', () => {
  test('a fresh store records every version up to the current one, once; a restart applies nothing again', async () => {
    const cfg = testConfig();
    const first = capture();
    const before = Date.now();
    await withStore(new ClickHouseStore({ config: cfg, name: 'fresh', logger: first.logger }), async (s) => {
      const v = await versionRows(s, cfg.database);
      assert.deepEqual(
        v.map(([version, description]) => [version, description]),
        MIGRATIONS.map((m) => [m.version, m.description]),
        'one row per migration, in order, with its description',
      );
      assert.equal(v[v.length - 1]![0], SCHEMA_VERSION);
      for (const [, , at] of v) {
        const t = Date.parse(at.replace(' ', 'T') + 'Z');
        assert.ok(Math.abs(t - before) < 5 * 60_000, `AppliedAt ${at} is about now`);
      }
    });
    assert.deepEqual(applied(first.lines), MIGRATIONS.map((m) => m.version), 'each migration is logged as it is applied');
    await withStore(new ClickHouseStore({ config: cfg, name: 'who' }), async (s) => {
      const who = await rows<[string]>(s, `SELECT DISTINCT SkuaVersion FROM \`${cfg.database}\`.${T.version}`);
      assert.deepEqual(who, [[version]], 'each migration records the Skua version that applied it');
      // Version 3: the span table merges more parts at once; the lookup table packs its times.
      const spansEngine = (await rows<[string]>(s, `SELECT engine_full FROM system.tables WHERE database = '${cfg.database}' AND name = '${T.spans}'`))[0]?.[0];
      assert.match(spansEngine!, /merge_selector_base = 40, min_parts_to_merge_at_once = 16/);
      const codecs = await rows<[string, string]>(s, `SELECT name, compression_codec FROM system.columns WHERE database = '${cfg.database}' AND table = '${T.traceIdTs}' AND name IN ('Start', 'End') ORDER BY name`);
      assert.deepEqual(codecs, [['End', 'CODEC(T64, ZSTD(1))'], ['Start', 'CODEC(T64, ZSTD(1))']]);
      // Version 5: the lookup table keeps about a compressed block per granule.
      const titsEngine = await scalar<string>(s, `SELECT engine_full FROM system.tables WHERE database = '${cfg.database}' AND name = '${T.traceIdTs}'`);
      assert.match(titsEngine!, /min_compress_block_size = 8192, max_compress_block_size = 65536/);
    });

    const second = capture();
    await withStore(new ClickHouseStore({ config: cfg, name: 'again', logger: second.logger }), async (s) => {
      assert.equal((await versionRows(s, cfg.database)).length, MIGRATIONS.length, 'no version recorded twice');
    });
    assert.deepEqual(applied(second.lines), [], 'a restart applies no migration');
    // create_schema: false accepts a store at the current version.
    await withStore(new ClickHouseStore({ config: { ...cfg, create_schema: false }, name: 'strict' }), async (s) => {
      assert.deepEqual(await s.getServices(ctx), []);
    });
  });

  test('write.fsync turns fsync of inserted parts on for every data table, and off again', async () => {
    const cfg = testConfig({ write: { ...testConfig().write, fsync: true } });
    const settings = async (s: ClickHouseStore) =>
      (await rows<[string, string]>(s, `SELECT name, engine_full FROM system.tables WHERE database = '${cfg.database}' AND engine LIKE '%MergeTree' AND name != '${T.version}' ORDER BY name`)).map(
        ([name, e]) => [name, /fsync_after_insert = 1/.test(e) && /fsync_part_directory = 1/.test(e)] as const,
      );
    const t0 = baseTime();
    const id = newTraceId();
    await withStore(new ClickHouseStore({ config: cfg, name: 'fsync' }), async (s) => {
      assert.deepEqual(await settings(s), [[T.spans, true], [T.traceIdTs, true], [T.attributeKeys, true], [T.operations, true]].sort(), 'fsync on: every data table');
      await s.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: id, start: t0 })])), ctx);
      assert.equal((await collect(s.getTraces([{ traceId: id }], ctx))).length, 1, 'writes and reads as usual');
    });
    await withStore(new ClickHouseStore({ config: { ...cfg, write: { ...cfg.write, fsync: false } }, name: 'nofsync' }), async (s) => {
      assert.ok((await settings(s)).every(([, on]) => !on), 'fsync off again after a restart with write.fsync: false');
      assert.equal((await collect(s.getTraces([{ traceId: id }], ctx))).length, 1);
    });
  });

  test('an older store is upgraded in place: every tenant\'s data stays readable and searchable', async () => {
    const cfg = testConfig();
    const t0 = baseTime();
    const ids = { a: newTraceId(), b: newTraceId() };
    await withStore(new ClickHouseStore({ config: cfg, name: 'v1', schemaVersion: 1 }), async (s) => {
      assert.deepEqual((await versionRows(s, cfg.database)).map((r) => r[0]), [1]);
      for (const [tenant, id] of [['tenant-a', ids.a], ['tenant-b', ids.b]] as const) {
        await s.writeTraces(
          traces(
            makeResourceSpans({ service: `svc-${tenant}`, resourceAttributes: [str('deployment', tenant)] }, [
              makeSpan({
                traceId: id,
                start: t0,
                attributes: [str('k', tenant)],
                links: [{ traceId: newTraceId(), spanId: newSpanId(), traceState: '', attributes: [str('link.k', tenant)], droppedAttributesCount: 0, flags: 0 }],
              }),
            ]),
          ),
          { tenant },
        );
      }
    });
    const log = capture();
    await withStore(new ClickHouseStore({ config: cfg, name: 'v2', logger: log.logger }), async (s) => {
      assert.deepEqual(applied(log.lines), MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version), 'only the missing migrations run');
      assert.deepEqual((await versionRows(s, cfg.database)).map((r) => r[0]), MIGRATIONS.map((m) => m.version));
      for (const [tenant, id] of [['tenant-a', ids.a], ['tenant-b', ids.b]] as const) {
        const c = { tenant };
        assert.deepEqual(await s.getServices(c), [`svc-${tenant}`]);
        assert.equal((await collect(s.getTraces([{ traceId: id }], c))).length, 1, `${tenant}: trace by id`);
        for (const [k, v] of [['k', tenant], ['deployment', tenant], ['link.k', tenant]]) {
          const found = await collect(s.findTraceIds({ attributes: new Map([[k!, v!]]), searchDepth: 5 }, c));
          assert.deepEqual(found.map((f) => f.traceId), [id], `${tenant}: written before the upgrade, found by ${k}=${v}`);
        }
      }
      // And new data after the upgrade.
      const fresh = newTraceId();
      await s.writeTraces(traces(makeResourceSpans({ service: 'after', resourceAttributes: [str('deployment', 'new')] }, [makeSpan({ traceId: fresh, start: t0 })])), ctx);
      assert.deepEqual((await collect(s.findTraceIds({ attributes: new Map([['deployment', 'new']]), searchDepth: 5 }, ctx))).map((f) => f.traceId), [fresh]);
    });
  });

  for (const createSchema of [true, false]) {
    test(`a store written by a newer Skua is refused (create_schema: ${createSchema}) naming both versions, and left untouched`, async () => {
      const cfg = testConfig({ ttl: '168h' });
      const future = SCHEMA_VERSION + 7;
      const t0 = baseTime();
      const id = newTraceId();
      await withStore(new ClickHouseStore({ config: cfg, name: 'now' }), async (s) => {
        await s.writeTraces(traces(makeResourceSpans({ service: 'kept' }, [makeSpan({ traceId: id, start: t0 })])), ctx);
        await s.clickhouse.command({ query: `INSERT INTO \`${cfg.database}\`.${T.version} (Version, Description) VALUES (${future}, 'from the future')` });
      });
      const changed: Config = { ...cfg, create_schema: createSchema, ttl: '24h' }; // a TTL change would be applied by a start that proceeds
      await assert.rejects(new ClickHouseStore({ config: changed, name: 'old-skua' }).start(), (e: Error) => {
        assert.match(e.message, /clickhouse backend "old-skua"/, 'names the backend');
        assert.match(e.message, new RegExp(`schema version ${future}\\b`), 'names the store\'s version');
        assert.match(e.message, new RegExp(`versions up to ${SCHEMA_VERSION}\\b`), 'names the version this Skua knows');
        assert.match(e.message, /newer Skua/);
        assert.match(e.message, new RegExp(cfg.database), 'names the database');
        return true;
      });
      // Untouched: the TTL was not changed, the data is there (looked at from another database).
      const probe = newTestStore();
      await withStore(probe, async (s) => {
        const engine = await scalar<string>(s, `SELECT engine_full FROM system.tables WHERE database = '${cfg.database}' AND name = '${T.spans}'`);
        assert.match(engine ?? '(no table)', /toIntervalSecond\(604800\)/, 'the refused start changed no TTL');
        const n = await scalar<string>(s, `SELECT toString(count()) FROM \`${cfg.database}\`.${T.spans}`);
        assert.equal(n, '1');
        const max = await scalar<number>(s, `SELECT max(Version) FROM \`${cfg.database}\`.${T.version}`);
        assert.equal(max, future);
      });
    });
  }

  test('a database holding an otel_traces table Skua did not create (the Collector exporter\'s) is refused at start, naming it', async () => {
    const cfg = testConfig();
    await withStore(newTestStore(), async (s) => {
      await s.clickhouse.command({ query: `CREATE DATABASE \`${cfg.database}\`` });
      // The OpenTelemetry Collector ClickHouse exporter's table: no Tenant, other sort key.
      await s.clickhouse.command({
        query: `CREATE TABLE \`${cfg.database}\`.otel_traces (
          Timestamp DateTime64(9), TraceId String, SpanId String, ParentSpanId String, TraceState String,
          SpanName LowCardinality(String), SpanKind LowCardinality(String), ServiceName LowCardinality(String),
          ResourceAttributes Map(LowCardinality(String), String), ScopeName String, ScopeVersion String,
          SpanAttributes Map(LowCardinality(String), String), Duration UInt64, StatusCode LowCardinality(String), StatusMessage String,
          Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes Map(LowCardinality(String), String)),
          Links Nested (TraceId String, SpanId String, TraceState String, Attributes Map(LowCardinality(String), String))
        ) ENGINE = MergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))`,
      });
    });
    const store = new ClickHouseStore({ config: cfg, name: 'shared-db' });
    await assert.rejects(store.start(), (e: Error) => {
      assert.match(e.message, /clickhouse backend "shared-db"/);
      assert.match(e.message, /otel_traces/, 'names the table');
      assert.match(e.message, /Tenant/, 'names what is missing');
      return true;
    });
    await store.close();
  });

  test('two stores starting at once on a new database both start at the current version', async () => {
    const cfg = testConfig();
    const a = new ClickHouseStore({ config: cfg, name: 'a' });
    const b = new ClickHouseStore({ config: cfg, name: 'b' });
    try {
      await Promise.all([a.start(), b.start()]);
      const max = await scalar<number>(a, `SELECT max(Version) FROM \`${cfg.database}\`.${T.version}`);
      assert.equal(max, SCHEMA_VERSION);
      const id = newTraceId();
      await a.writeTraces(traces(makeResourceSpans({ service: 'x' }, [makeSpan({ traceId: id, start: baseTime() })])), ctx);
      assert.equal((await collect(b.getTraces([{ traceId: id }], ctx))).length, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
