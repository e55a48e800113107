import { describe, test } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import assert from 'node:assert/strict';
import { RetryableError } from '../../component/errors.js';
import { SpanKind } from '../../pdata/model.js';
import { encodeTraceRequestProto } from '../../pdata/proto-encode.js';
import { decodeTraceRequestProto } from '../../pdata/proto-view.js';
import { generateResourceSpans } from '../../pdata/testdata/generate.js';
import { Traces } from '../../pdata/traces.js';
import {
  baseTime,
  collect,
  flatten,
  int,
  makeResourceSpans,
  makeSpan,
  newTraceId,
  runStorageConformance,
  str,
  traces,
} from '../conformance.js';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { flushingStore, newTestStore, testConfig, testDataDir, watchInserts, withStore } from './testutil.js';
import { inlineParams, spoolDirOf } from './client.js';
import { ClickHouseStore } from './clickhouse.js';
import { MIGRATIONS, SCHEMA_VERSION, T } from './schema.js';
import { insertSql } from './insert.js';
import { encodeRows, newDictionaries } from './rows.js';

runStorageConformance({ name: 'clickhouse (embedded chDB)', newStore: () => newTestStore() });
runStorageConformance({
  name: 'clickhouse (embedded chDB, write-ahead spool)',
  newStore: () => flushingStore(newTestStore({ write: { ...testConfig().write, wal: true } })),
});

const ctx = { tenant: '' };
const MS = 1_000_000n;
const SECOND = 1000n * MS;

async function scalar(store: ClickHouseStore, query: string): Promise<string> {
  const rs = await store.clickhouse.query({ query, format: 'JSONCompactEachRow' });
  const rows = (await rs.json()) as unknown[][];
  return String(rows[0]?.[0] ?? '');
}

/** Canonical spans (sorted by id) for comparing what was written with what is read. */
function canon(td: Traces): string {
  const norm = (x: unknown): unknown =>
    typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : Array.isArray(x) ? x.map(norm) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)])) : x;
  return JSON.stringify(
    flatten(td)
      .map((f) => norm(f))
      .sort((a, b) => ((a as { span: { spanId: string } }).span.spanId < (b as { span: { spanId: string } }).span.spanId ? -1 : 1)),
  );
}

describe('clickhouse store', () => {
  test('spans decoded from OTLP protobuf (the receiver path) round-trip exactly', async () => {
    await withStore(newTestStore(), async (store) => {
      const rs = generateResourceSpans({ spans: 60, everything: true, seed: 7, services: 3, baseNanos: baseTime() });
      const td = decodeTraceRequestProto(encodeTraceRequestProto(rs)).traces;
      await store.writeTraces(td, ctx);
      const ids = [...new Set(flatten(td).map((f) => f.span.traceId))];
      const got = await collect(store.getTraces(ids.map((traceId) => ({ traceId })), ctx));
      assert.equal(got.length, ids.length);
      assert.equal(canon(Traces.merge(got)), canon(Traces.fromResourceSpans(rs)));
    });
  });

  test('rows in the statement (the form a server gets) round-trip exactly, odd values included', async () => {
    await withStore(newTestStore(), async (store) => {
      const t0 = baseTime();
      const rs = [
        ...generateResourceSpans({ spans: 60, everything: true, seed: 11, services: 3, baseNanos: t0 }),
        makeResourceSpans({ service: 'svc $$ "q"' }, [
          makeSpan({ traceId: newTraceId(), name: 'naïve $$ \\ "name"\n\u0000', start: t0, attributes: [str('k$', 'v$$\t'), str('ключ', '值 😀'), int('big', -(2n ** 63n))] }),
        ]),
      ];
      const rows = encodeRows(rs, '', newDictionaries());
      await store.clickhouse.command({ query: insertSql(store.database, rows), clickhouse_settings: { max_query_size: '100000000' } });
      const ids = [...new Set(rs.flatMap((r) => r.scopeSpans.flatMap((ss) => ss.spans.map((sp) => sp.traceId))))];
      const got = await collect(store.getTraces(ids.map((traceId) => ({ traceId })), ctx));
      assert.equal(got.length, ids.length);
      assert.equal(canon(Traces.merge(got)), canon(Traces.fromResourceSpans(rs)));
    });
  });

  test('a restart reopens the data', async () => {
    const cfg = testConfig();
    const t0 = baseTime();
    const traceId = newTraceId();
    await withStore(new ClickHouseStore({ config: cfg, name: 'a' }), async (s) => {
      await s.writeTraces(traces(makeResourceSpans({ service: 'kept' }, [makeSpan({ traceId, name: 'op', start: t0 })])), ctx);
    });
    await withStore(new ClickHouseStore({ config: cfg, name: 'b' }), async (s) => {
      assert.deepEqual(await s.getServices(ctx), ['kept']);
      const got = await collect(s.getTraces([{ traceId }], ctx));
      assert.equal(got.length, 1);
      assert.equal(flatten(got[0]!)[0]!.span.name, 'op');
    });
  });

  test('dependencies come from parent/child spans of different services, in any write order', async () => {
    await withStore(newTestStore(), async (store) => {
      const t0 = baseTime();
      for (let i = 0; i < 3; i++) {
        const traceId = newTraceId();
        const gw = makeSpan({ traceId, name: 'GET /', kind: SpanKind.SERVER, start: t0 + BigInt(i) * SECOND });
        const gwOut = makeSpan({ traceId, parentSpanId: gw.spanId, name: 'call', kind: SpanKind.CLIENT, start: gw.startTimeUnixNano + 1n });
        const api = makeSpan({ traceId, parentSpanId: gwOut.spanId, name: 'handle', kind: SpanKind.SERVER, start: gw.startTimeUnixNano + 2n });
        const db1 = makeSpan({ traceId, parentSpanId: api.spanId, name: 'q1', kind: SpanKind.CLIENT, start: gw.startTimeUnixNano + 3n });
        const db2 = makeSpan({ traceId, parentSpanId: api.spanId, name: 'q2', kind: SpanKind.CLIENT, start: gw.startTimeUnixNano + 4n });
        const dbs = makeSpan({ traceId, parentSpanId: db1.spanId, name: 'exec', kind: SpanKind.SERVER, start: gw.startTimeUnixNano + 5n });
        const dbs2 = makeSpan({ traceId, parentSpanId: db2.spanId, name: 'exec', kind: SpanKind.SERVER, start: gw.startTimeUnixNano + 6n });
        // children first
        await store.writeTraces(traces(makeResourceSpans({ service: 'db' }, [dbs, dbs2])), ctx);
        await store.writeTraces(traces(makeResourceSpans({ service: 'api' }, [api, db1, db2])), ctx);
        await store.writeTraces(traces(makeResourceSpans({ service: 'gateway' }, [gw, gwOut])), ctx);
      }
      const links = await store.getDependencies({ start: t0 - SECOND, end: t0 + 10n * SECOND }, ctx);
      assert.deepEqual(
        links.map((l) => `${l.parent}->${l.child}:${l.callCount}`).sort(),
        ['api->db:6', 'gateway->api:3'],
      );
    });
  });

  test('operations by span kind; search without a service; search by a resource attribute', async () => {
    await withStore(newTestStore(), async (store) => {
      const t0 = baseTime();
      const [a, b] = [newTraceId(), newTraceId()];
      await store.writeTraces(
        traces(
          makeResourceSpans({ service: 'svc', resourceAttributes: [str('host.name', 'h1'), int('pid', 42)] }, [
            makeSpan({ traceId: a, name: 'publish', kind: SpanKind.PRODUCER, start: t0, attributes: [str('user.id', 'u1')] }),
            makeSpan({ traceId: a, name: 'publish', kind: SpanKind.INTERNAL, start: t0 + MS }),
          ]),
          makeResourceSpans({ service: 'other', resourceAttributes: [str('host.name', 'h2')] }, [
            makeSpan({ traceId: b, name: 'consume', kind: SpanKind.CONSUMER, start: t0 + 2n * MS, attributes: [str('user.id', 'u2')] }),
          ]),
        ),
        ctx,
      );
      assert.deepEqual(await store.getOperations({ serviceName: 'svc', spanKind: 'producer' }, ctx), [{ name: 'publish', spanKind: 'producer' }]);
      assert.deepEqual(await store.getOperations({ serviceName: 'svc' }, ctx), [
        { name: 'publish', spanKind: 'internal' },
        { name: 'publish', spanKind: 'producer' },
      ]);
      const find = async (q: Parameters<ClickHouseStore['findTraceIds']>[0]) => (await collect(store.findTraceIds(q, ctx))).map((f) => f.traceId);
      assert.deepEqual(await find({ attributes: new Map([['user.id', 'u2']]), searchDepth: 10 }), [b]);
      assert.deepEqual(await find({ attributes: new Map([['host.name', 'h1']]), searchDepth: 10 }), [a]);
      assert.deepEqual(await find({ attributes: new Map([['pid', '42'], ['user.id', 'u1']]), searchDepth: 10 }), [a]);
      assert.deepEqual(await find({ spanKind: 'consumer', searchDepth: 10 }), [b]);
      assert.deepEqual(await find({ searchDepth: 1 }), [b], 'newest first without any filter');
    });
  });

  test('searches by service keep the blocks they read in the engine\'s uncompressed cache (embedded.uncompressed_cache_size); gets by id and searches by attribute or duration do not; the setting stays with its statement', async () => {
    const cacheSize = 48 * 1024 * 1024;
    await withStore(newTestStore({ embedded: { path: testDataDir(), uncompressed_cache_size: cacheSize } }), async (store) => {
      assert.equal(await scalar(store, "SELECT value FROM system.server_settings WHERE name = 'uncompressed_cache_size'"), String(cacheSize));
      // One engine per process: a backend asking for another size is refused while this one is open.
      const other = newTestStore({ embedded: { path: testDataDir(), uncompressed_cache_size: cacheSize + 1 } });
      await assert.rejects(other.start(), /uncompressed_cache_size 50331648: give every embedded backend the same value \(this one asks for 50331649\)/);
      const t0 = baseTime();
      const ids = Array.from({ length: 6 }, () => newTraceId());
      await store.writeTraces(
        traces(makeResourceSpans({ service: 'cached' }, ids.flatMap((traceId, i) => [makeSpan({ traceId, name: 'a', start: t0 + BigInt(i) * MS, attributes: [str('user.id', `u${i}`)] }), makeSpan({ traceId, name: 'b', start: t0 + BigInt(i) * MS + 1n })]))),
        ctx,
      );
      const counters = async (): Promise<{ hits: number; misses: number }> => {
        const rs = await store.clickhouse.query({
          query: "SELECT event, value FROM system.events WHERE event IN ('UncompressedCacheHits', 'UncompressedCacheMisses')",
          format: 'JSONCompactEachRow',
        });
        const m = new Map((await rs.json<[string, string]>()).map(([k, v]) => [k, Number(v)]));
        return { hits: m.get('UncompressedCacheHits') ?? 0, misses: m.get('UncompressedCacheMisses') ?? 0 };
      };
      const search = async (): Promise<number> => (await collect(store.findTraces({ serviceName: 'cached', searchDepth: 10 }, ctx))).flatMap(flatten).length;
      const c0 = await counters();
      assert.equal(await search(), 12);
      const c1 = await counters();
      assert.ok(c1.misses > c0.misses, `the first search fills the cache (${JSON.stringify([c0, c1])})`);
      assert.equal(await search(), 12);
      const c2 = await counters();
      assert.ok(c2.hits > c1.hits, `the second search reads from it (${JSON.stringify([c1, c2])})`);
      // The setting went with the search's statements, not onto the connections (the embedded
      // connection applies client settings as SET, which would stay for the statements after).
      for (const reader of store.readers) {
        const rs = await reader.query({ query: "SELECT getSetting('use_uncompressed_cache')", format: 'JSONCompactEachRow' });
        assert.deepEqual(await rs.json(), [[false]]);
      }
      // Gets by id and searches by attribute or duration neither hit nor fill it.
      for (let i = 0; i < 4; i++) assert.equal((await collect(store.getTraces([{ traceId: ids[i]! }], ctx))).flatMap(flatten).length, 2);
      assert.equal((await collect(store.findTraces({ serviceName: 'cached', attributes: new Map([['user.id', 'u1']]), searchDepth: 10 }, ctx))).flatMap(flatten).length, 2);
      assert.equal((await collect(store.findTraces({ serviceName: 'cached', durationMin: 0n, searchDepth: 10 }, ctx))).flatMap(flatten).length, 12);
      assert.deepEqual(await counters(), c2);
    });
  });

  test('embedded: the attribute maps are compressed with ZSTD(7) in written parts and ZSTD(9) in parts merged from compression_min_part_size bytes', async () => {
    const min = 512 * 1024;
    await withStore(newTestStore({ embedded: { path: testDataDir(), compression_min_part_size: min } }), async (s) => {
      const other = newTestStore({ embedded: { path: testDataDir() } });
      await assert.rejects(other.start(), /compression_min_part_size 524288: give every embedded backend the same value \(this one asks for 4194304\)/);
      const table = `\`${s.database}\`.otel_traces`;
      const codecs = async (): Promise<string> =>
        scalar(s, `SELECT toString(groupArray(compression_codec)) FROM (SELECT compression_codec FROM system.columns WHERE database = '${s.database}' AND table = 'otel_traces' AND name IN ('SpanAttributes', 'Events.Attributes') ORDER BY name)`);
      assert.equal(await codecs(), "['CODEC(Default)','CODEC(Default)']");
      const parts = async (): Promise<string> =>
        scalar(s, `SELECT toString(groupArray((rows, default_compression_codec))) FROM (SELECT rows, default_compression_codec FROM system.parts WHERE database = '${s.database}' AND table = 'otel_traces' AND active ORDER BY name)`);
      // Attribute values that barely compress: two INSERTs of ~400 KB each, one merge of ~800 KB.
      const random = (): string => randomBytes(600).toString('base64');
      const write = (n: number) =>
        s.writeTraces(traces(makeResourceSpans({ service: 'z' }, Array.from({ length: n }, () => makeSpan({ traceId: newTraceId(), start: baseTime(), attributes: [str('blob', random())] })))), ctx);
      await write(500);
      await write(500);
      assert.equal(await parts(), "[(500,'ZSTD(7)'),(500,'ZSTD(7)')]");
      await s.clickhouse.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
      assert.equal(await parts(), "[(1000,'ZSTD(9)')]");
      // A server is not configured for it: its attribute maps keep ZSTD(9).
      const serverDdl = MIGRATIONS.find((m) => m.version === 6)!.statements({ database: 'd', ttlSeconds: 0, cluster: '' });
      assert.deepEqual(serverDdl, []);
    });
  });

  test('embedded connections start with their settings: 64-bit integers as JSON strings, no query profilers', async () => {
    await withStore(newTestStore(), async (s) => {
      for (const client of [s.clickhouse, ...s.readers]) {
        const rs = await client.query({
          query:
            "SELECT getSetting('output_format_json_quote_64bit_integers'), getSetting('query_profiler_real_time_period_ns'), getSetting('query_profiler_cpu_time_period_ns'), toUInt64(18446744073709551615)",
          format: 'JSONCompactEachRow',
        });
        assert.deepEqual(await rs.json(), [[true, 0, 0, '18446744073709551615']]);
      }
    });
  });

  test('concurrent writes are gathered into few INSERTs', async () => {
    const store = newTestStore({ write: { ...testConfig().write, batch_timeout: '300ms' } });
    await withStore(store, async (s) => {
      let inserts = 0;
      watchInserts(s, () => inserts++);
      const t0 = baseTime();
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => s.writeTraces(traces(makeResourceSpans({ service: 'x' }, [makeSpan({ traceId: newTraceId(), start: t0 + BigInt(i) })])), ctx)),
      );
      assert.ok(inserts <= 2, `40 concurrent writes made ${inserts} INSERTs`);
      assert.equal(await scalar(s, `SELECT count() FROM \`${s.database}\`.otel_traces`), '40');
    });
  });

  test('queries and INSERTs do not wait for each other: a search answers while long queries (with and without bound parameters) hold the write connection, writes land while they hold every reader', async () => {
    await withStore(newTestStore(), async (s) => {
      const t0 = baseTime();
      await s.writeTraces(traces(makeResourceSpans({ service: 'busy' }, [makeSpan({ traceId: newTraceId(), start: t0 })])), ctx);
      // chDB runs one query at a time per connection, and queries with bound parameters one at a
      // time in the process: each of these would queue behind a shared one.
      const slow = (client: ClickHouseClient, params?: Record<string, unknown>) => {
        let done = false;
        const p = client.query({ query: params ? 'SELECT sleep({s:UInt8})' : 'SELECT sleep(2)', query_params: params ?? {}, format: 'JSONCompactEachRow' }).then(() => {
          done = true;
        });
        return { p, done: () => done };
      };
      const search = () => collect(s.findTraces({ serviceName: 'busy', searchDepth: 5, startTimeMin: t0 - SECOND, startTimeMax: t0 + SECOND }, ctx));
      // A long query on the write connection, then one with bound parameters there: the search's
      // reads have connections of their own and their values in the SQL, so chDB (which runs
      // statements with bound parameters one at a time in the process) queues them behind neither.
      for (const params of [undefined, { s: 2 }]) {
        const writer = slow(s.clickhouse, params);
        assert.equal((await search()).length, 1);
        assert.equal(writer.done(), false, `the search ended before the long query on the write connection (${params ? 'bound parameters' : 'plain'})`);
        await writer.p;
      }
      for (const params of [undefined, { s: 2 }]) {
        const readers = s.readers.map((c) => slow(c, params));
        // New resource attribute keys: their INSERT goes first (with its values in the SQL).
        const service = params ? 'busy-params' : 'busy-plain';
        await s.writeTraces(traces(makeResourceSpans({ service, resourceAttributes: [str(`key-${service}`, 'v')] }, [makeSpan({ traceId: newTraceId(), start: t0 + MS })])), ctx);
        assert.ok(readers.every((r) => !r.done()), `the write landed before the long queries on the readers ended (${service})`);
        await Promise.all(readers.map((r) => r.p));
      }
      assert.equal(await scalar(s, `SELECT count() FROM \`${s.database}\`.otel_traces`), '3');
    });
  });

  test('parameters written into the SQL (embedded reads) come back exactly; other types, missing values and non-integers are refused', async () => {
    await withStore(newTestStore(), async (s) => {
      const texts = ["it's", 'back\\slash', "\\'", '日本語 🚀 \u2028', '{x:String}', "'); SELECT 1; --", ''];
      const params = { a: texts, b: texts[1], c: '-9223372036854775808', d: '4294967295', e: '18446744073709551615' };
      const sql = inlineParams('SELECT {a:Array(String)}, {b:String}, toString({c:Int64}), toString({d:UInt32}), toString({e:UInt64})', params);
      const rs = await s.clickhouse.query({ query: sql, format: 'JSONCompactEachRow' });
      assert.deepEqual(await rs.json(), [[texts, texts[1], params.c, params.d, params.e]]);
      assert.throws(() => inlineParams('SELECT {x:Float64}', { x: 1.5 }), /cannot write 1.5 as Float64/);
      assert.throws(() => inlineParams('SELECT {x:Int64}', { x: '1; DROP' }), /cannot write/);
      assert.throws(() => inlineParams('SELECT {x:String}', {}), /no value for query parameter x/);
    });
  });

  test('backpressure: beyond max_pending_rows writes fail with RetryableError', async () => {
    const store = newTestStore({ write: { ...testConfig().write, max_pending_rows: 50, batch_timeout: '200ms' } });
    await withStore(store, async (s) => {
      const t0 = baseTime();
      const batch = () => traces(makeResourceSpans({ service: 'x' }, Array.from({ length: 30 }, (_, i) => makeSpan({ traceId: newTraceId(), start: t0 + BigInt(i) }))));
      const first = s.writeTraces(batch(), ctx);
      await assert.rejects(s.writeTraces(batch(), ctx), (e: unknown) => e instanceof RetryableError && /busy.*max_pending_rows 50/.test(e.message) && e.retryAfterMs !== undefined);
      await first;
      await s.writeTraces(batch(), ctx); // room again once the first batch is stored
    });
  });

  test('a retried INSERT with the same deduplication token stores its rows once', async () => {
    await withStore(newTestStore(), async (s) => {
      const t0 = baseTime();
      const rows = encodeRows([makeResourceSpans({ service: 'x' }, [makeSpan({ traceId: newTraceId(), start: t0 }), makeSpan({ traceId: newTraceId(), start: t0 })])], '', newDictionaries());
      const sql = insertSql(s.database, rows);
      for (let i = 0; i < 3; i++) {
        await s.clickhouse.command({ query: sql, clickhouse_settings: { max_query_size: '10000000', insert_deduplication_token: 'same-token', deduplicate_blocks_in_dependent_materialized_views: 1 } });
      }
      assert.equal(await scalar(s, `SELECT count() FROM \`${s.database}\`.otel_traces`), '2');
      assert.equal(await scalar(s, `SELECT count() FROM \`${s.database}\`.otel_traces_trace_id_ts`), '2', 'the materialized views de-duplicate too');
    });
  });

  test('embedded INSERTs read their rows from a spool file, removed afterwards; without it the rows go in the statement', async () => {
    await withStore(newTestStore(), async (s) => {
      const inserts: string[] = [];
      let loseFile = false;
      watchInserts(s, (query) => {
        inserts.push(query);
        const file = /FROM file\('([^']+)'/.exec(query)?.[1];
        if (file && loseFile) rmSync(file); // the engine then fails to read it
      });
      const spool = spoolDirOf(testDataDir());
      const write = () => s.writeTraces(traces(makeResourceSpans({ service: 'x' }, [makeSpan({ traceId: newTraceId(), start: baseTime() })])), ctx);
      await write();
      assert.match(inserts[0]!, /FROM file\('[^']*skua_spool\/[0-9a-f-]{36}\.bin', RowBinary/);
      assert.deepEqual(readdirSync(spool), [], 'the spool file is removed after the INSERT');
      // The file vanishes before the engine reads it: the retry carries the rows in the statement.
      loseFile = true;
      await write();
      assert.match(inserts[1]!, /FROM file\(/);
      assert.match(inserts[2]!, /FROM format\(JSONCompactEachRow/);
      // The spool directory is gone: the rows go in the statement at once.
      rmSync(spool, { recursive: true });
      try {
        await write();
      } finally {
        mkdirSync(spool, { recursive: true });
      }
      assert.match(inserts[3]!, /FROM format\(JSONCompactEachRow/);
      assert.equal(inserts.length, 4);
      assert.equal(await scalar(s, `SELECT count() FROM \`${s.database}\`.otel_traces`), '3');
    });
  });

  test('writes after close are refused; close flushes what was accepted', async () => {
    const store = newTestStore({ write: { ...testConfig().write, batch_timeout: '10s' } });
    await store.start();
    const t0 = baseTime();
    const traceId = newTraceId();
    const pending = store.writeTraces(traces(makeResourceSpans({ service: 'x' }, [makeSpan({ traceId, start: t0 })])), ctx);
    const cfg = (store as unknown as { o: { config: ReturnType<typeof testConfig> } }).o.config;
    await store.close();
    await pending; // resolved: flushed by close despite the 10 s batch timeout
    await assert.rejects(store.writeTraces(traces(makeResourceSpans({ service: 'x' }, [makeSpan({ traceId, start: t0 })])), ctx));
    await withStore(new ClickHouseStore({ config: cfg, name: 'again' }), async (s) => {
      assert.equal((await collect(s.getTraces([{ traceId }], ctx))).length, 1);
    });
  });
});

describe('clickhouse schema', () => {
  test('migrations: an older store is upgraded and keeps its data; a newer one is refused', async () => {
    const cfg = testConfig();
    const t0 = baseTime();
    const traceId = newTraceId();
    await withStore(new ClickHouseStore({ config: cfg, name: 'old', schemaVersion: 1 }), async (s) => {
      assert.equal(await scalar(s, `SELECT max(Version) FROM \`${cfg.database}\`.${T.version}`), '1');
      assert.equal(await scalar(s, `SELECT count() FROM system.data_skipping_indices WHERE database = '${cfg.database}'`), '0');
      await s.writeTraces(
        traces(makeResourceSpans({ service: 'v1', resourceAttributes: [str('host.name', 'old-host')] }, [makeSpan({ traceId, start: t0, attributes: [str('k', 'v')] })])),
        ctx,
      );
    });
    // A version-1 store refuses to start when it may not upgrade.
    await assert.rejects(
      new ClickHouseStore({ config: { ...cfg, create_schema: false }, name: 'strict' }).start(),
      new RegExp(`schema version 1; this Skua needs version ${SCHEMA_VERSION}: set create_schema: true to upgrade it`),
    );
    await withStore(new ClickHouseStore({ config: cfg, name: 'new' }), async (s) => {
      assert.equal(await scalar(s, `SELECT max(Version) FROM \`${cfg.database}\`.${T.version}`), String(SCHEMA_VERSION));
      assert.equal(await scalar(s, `SELECT count() FROM system.data_skipping_indices WHERE database = '${cfg.database}' AND name = 'idx_attr_tokens'`), '1');
      const found = await collect(s.findTraceIds({ serviceName: 'v1', attributes: new Map([['k', 'v']]), searchDepth: 5 }, ctx));
      assert.deepEqual(found.map((f) => f.traceId), [traceId], 'data written before the upgrade is still found');
      const byResource = await collect(s.findTraceIds({ attributes: new Map([['host.name', 'old-host']]), searchDepth: 5 }, ctx));
      assert.deepEqual(byResource.map((f) => f.traceId), [traceId], 'the upgrade learnt the resource attribute keys of old spans');
      await s.clickhouse.command({ query: `INSERT INTO \`${cfg.database}\`.${T.version} (Version, Description) VALUES (99, 'from the future')` });
    });
    await assert.rejects(
      new ClickHouseStore({ config: cfg, name: 'future' }).start(),
      new RegExp(`schema version 99, written by a newer Skua; this Skua knows versions up to ${SCHEMA_VERSION}: upgrade Skua`),
    );
  });

  test('create_schema: false on an empty database says what to do', async () => {
    await assert.rejects(newTestStore({ create_schema: false }).start(), /has no Skua schema and create_schema is false/);
  });

  test('TTL: the retention is in the DDL, whole parts are dropped, 0s keeps data forever, a change is applied', async () => {
    const cfg = testConfig({ ttl: '168h' });
    const engine = async (s: ClickHouseStore, table: string) => scalar(s, `SELECT engine_full FROM system.tables WHERE database = '${cfg.database}' AND name = '${table}'`);
    await withStore(new ClickHouseStore({ config: cfg, name: 'ttl' }), async (s) => {
      const e = await engine(s, T.spans);
      assert.match(e, /TTL toDateTime\(Timestamp\) \+ toIntervalSecond\(604800\)/);
      assert.match(e, /ttl_only_drop_parts = 1/);
      assert.match(await engine(s, T.traceIdTs), /TTL toDateTime\(Start\) \+ toIntervalSecond\(604800\)/);
      assert.match(await engine(s, T.operations), /TTL toDateTime\(Date\) \+ toIntervalSecond\(604800\)/);
    });
    await withStore(new ClickHouseStore({ config: { ...cfg, ttl: '24h' }, name: 'ttl2' }), async (s) => {
      assert.match(await engine(s, T.spans), /TTL toDateTime\(Timestamp\) \+ toIntervalSecond\(86400\)/);
    });
    await withStore(new ClickHouseStore({ config: { ...cfg, ttl: '0s' }, name: 'ttl0' }), async (s) => {
      assert.doesNotMatch(await engine(s, T.spans), /TTL/);
      assert.doesNotMatch(await engine(s, T.attributeKeys), /TTL/);
    });
    await withStore(newTestStore({ ttl: '0s' }), async (s) => {
      assert.doesNotMatch(await scalar(s, `SELECT engine_full FROM system.tables WHERE database = '${s.database}' AND name = '${T.spans}'`), /TTL/);
    });
  });

  test('the tables keep the OpenTelemetry Collector exporter\'s columns and types', async () => {
    await withStore(newTestStore(), async (s) => {
      const rs = await s.clickhouse.query({
        query: `SELECT name, type FROM system.columns WHERE database = '${s.database}' AND table = 'otel_traces'`,
        format: 'JSONCompactEachRow',
      });
      const cols = new Map((await rs.json()) as [string, string][]);
      const expected: Record<string, RegExp> = {
        Timestamp: /^DateTime64\(9\)$/,
        TraceId: /^String$/,
        SpanId: /^String$/,
        ParentSpanId: /^String$/,
        TraceState: /^String$/,
        SpanName: /^LowCardinality\(String\)$/,
        SpanKind: /^LowCardinality\(String\)$/,
        ServiceName: /^LowCardinality\(String\)$/,
        ResourceAttributes: /^Map\(LowCardinality\(String\), (LowCardinality\()?String\)?\)$/,
        ScopeName: /String/,
        ScopeVersion: /String/,
        SpanAttributes: /^Map\(LowCardinality\(String\), String\)$/,
        Duration: /^UInt64$/,
        StatusCode: /^LowCardinality\(String\)$/,
        StatusMessage: /^String$/,
        'Events.Timestamp': /^Array\(DateTime64\(9\)\)$/,
        'Events.Name': /^Array\(LowCardinality\(String\)\)$/,
        'Events.Attributes': /^Array\(Map\(LowCardinality\(String\), String\)\)$/,
        'Links.TraceId': /^Array\(String\)$/,
        'Links.SpanId': /^Array\(String\)$/,
        'Links.TraceState': /^Array\(String\)$/,
        'Links.Attributes': /^Array\(Map\(LowCardinality\(String\), String\)\)$/,
      };
      for (const [name, type] of Object.entries(expected)) assert.match(cols.get(name) ?? '(missing)', type, name);
      // The Collector's string forms of kinds and status codes.
      await s.writeTraces(traces(makeResourceSpans({ service: 'x' }, [makeSpan({ traceId: newTraceId(), kind: SpanKind.SERVER, start: baseTime(), status: { code: 2, message: 'boom' } })])), ctx);
      assert.equal(await scalar(s, `SELECT concat(SpanKind, '/', StatusCode) FROM \`${s.database}\`.otel_traces`), 'Server/Error');
    });
  });
});
