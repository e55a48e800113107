/**
 * The embedded store's write-ahead spool (`write.wal`, writer.ts): writes are acknowledged once in
 * the spool, inserted by segment, and replayed by the next start after a crash, exactly once.
 * Real chDB; a crash is what `holdSpool` leaves (segments never inserted), plus a torn append.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { baseTime, collect, int, makeResourceSpans, makeSpan, newTraceId, traces } from '../conformance.js';
import { spoolDirOf } from './client.js';
import { ClickHouseStore } from './clickhouse.js';
import { parseManifest } from './writer.js';
import { newTestStore, testConfig, testDataDir, watchInserts, withStore } from './testutil.js';
import type { Config } from './config.js';
import type { UnixNanos } from '../../pdata/model.js';

const ctx = { tenant: '' };

function walConfig(write: Partial<Config['write']> = {}): Config {
  const base = testConfig();
  return { ...base, write: { ...base.write, wal: true, batch_timeout: '50ms', ...write } };
}

async function count(store: ClickHouseStore, table = 'otel_traces'): Promise<number> {
  const rs = await store.clickhouse.query({ query: `SELECT count() FROM \`${store.database}\`.${table}`, format: 'JSONCompactEachRow' });
  return Number(((await rs.json()) as unknown[][])[0]![0]);
}

function spoolFiles(database: string): string[] {
  return readdirSync(spoolDirOf(testDataDir()))
    .filter((f) => f.includes(`-${database}-`))
    .sort();
}

function batch(n: number, tag: number, t0: bigint) {
  return traces(makeResourceSpans({ service: 'wal' }, Array.from({ length: n }, (_, i) => makeSpan({ traceId: newTraceId(), start: t0 + BigInt(tag * 1000 + i), attributes: [int('batch', tag)] }))));
}

describe('clickhouse write-ahead spool', () => {
  test('writes are acknowledged from the spool; concurrent writes make one INSERT of the segment; pending spans are a metric', async () => {
    const metrics = new SelfMetrics();
    const store = new ClickHouseStore({ config: walConfig({ batch_timeout: '200ms', fsync: true }), name: 'walstore', metrics });
    await withStore(store, async (s) => {
      let inserts = 0;
      watchInserts(s, (query) => {
        inserts++;
        assert.match(query, /FROM file\('[^']*skua_spool\/wal-\w+-[0-9a-z]+-[0-9a-f-]{36}\.bin', RowBinary/);
      });
      const t0 = baseTime();
      await Promise.all(Array.from({ length: 40 }, (_, i) => s.writeTraces(batch(1, i, t0), ctx)));
      // Acknowledged, not inserted yet (the segment waits for its batch_timeout): in the spool.
      assert.equal(inserts, 0);
      assert.equal(s.pendingRows, 40);
      assert.match(await metrics.registry.metrics(), /^skua_storage_pending_spans\{backend="walstore"\} 40$/m);
      const files = spoolFiles(s.database);
      assert.deepEqual(files.map((f) => f.replace(/.*\./, '')), ['bin', 'json']);
      const m = parseManifest(await import('node:fs').then((fs) => fs.readFileSync(join(spoolDirOf(testDataDir()), files[1]!), 'utf8')));
      assert.equal(m.rows, 40, 'the manifest names every acknowledged row');
      await s.flush();
      assert.equal(inserts, 1, `40 concurrent writes made ${inserts} INSERTs`);
      assert.equal(await count(s), 40);
      assert.deepEqual(spoolFiles(s.database), [], 'an inserted segment is removed');
      assert.match(await metrics.registry.metrics(), /^skua_storage_pending_spans\{backend="walstore"\} 0$/m);
    });
    assert.doesNotMatch(await metrics.registry.metrics(), /skua_storage_pending_spans\{/, 'a closed store is no longer reported');
  });

  test('a segment is inserted once it holds batch_max_rows; acknowledgements wait while more than concurrency + 1 segments are pending', async () => {
    await withStore(new ClickHouseStore({ config: walConfig({ batch_max_rows: 100, concurrency: 1, batch_timeout: '10s' }), name: 'wal' }), async (s) => {
      let inserts = 0;
      let maxPending = 0;
      watchInserts(s, () => inserts++);
      const t0 = baseTime();
      for (let i = 0; i < 10; i++) {
        // Sequential writers of 50: one segment per 100 rows, inserted at once (batch_timeout is 10 s).
        await s.writeTraces(batch(50, i, t0), ctx);
        maxPending = Math.max(maxPending, s.pendingRows);
      }
      assert.ok(maxPending <= 250, `${maxPending} spans pending after an acknowledgement (room: 2 segments of 100, + one write)`);
      await s.flush();
      assert.equal(inserts, 5);
      assert.equal(await count(s), 500);
    });
  });

  test('the next start replays what a crash left in the spool, up to the last complete append, exactly once', async () => {
    const config = walConfig({ batch_timeout: '10s' });
    const t0 = baseTime();
    // "Crash": three acknowledged writes whose segment is never inserted.
    await withStore(new ClickHouseStore({ config, name: 'crashed', holdSpool: true }), async (s) => {
      for (let i = 0; i < 3; i++) await s.writeTraces(batch(20, i, t0), ctx);
      assert.equal(await count(s), 0);
    });
    const spool = spoolDirOf(testDataDir());
    const files = spoolFiles(config.database);
    assert.equal(files.length, 2);
    const [bin, meta] = files.map((f) => join(spool, f)) as [string, string];
    // A fourth append torn by the crash: rows half written, its manifest line cut.
    appendFileSync(bin, Buffer.alloc(300, 7));
    appendFileSync(meta, '{"end":99999,"rows":8');
    copyFileSync(bin, `${bin}.copy`);
    copyFileSync(meta, `${meta}.copy`);

    await withStore(new ClickHouseStore({ config, name: 'restarted' }), async (s) => {
      assert.equal(await count(s), 60, 'every acknowledged span, none of the torn append');
      const found = await collect(s.findTraces({ serviceName: 'wal', attributes: new Map([['batch', '2']]), startTimeMin: (t0 - 1_000_000_000n) as UnixNanos, startTimeMax: (t0 + 1_000_000_000_000n) as UnixNanos, searchDepth: 100 }, ctx));
      assert.equal(found.length, 20);
      assert.deepEqual(spoolFiles(config.database).filter((f) => !f.endsWith('.copy')), [], 'replayed segments are removed');
    });

    // A crash after the replay's INSERT landed and before its files were removed: replayed again,
    // the deduplication token (the segment's name) keeps it once.
    const { renameSync } = await import('node:fs');
    renameSync(`${bin}.copy`, bin);
    renameSync(`${meta}.copy`, meta);
    await withStore(new ClickHouseStore({ config, name: 'again' }), async (s) => {
      assert.equal(await count(s), 60);
      assert.equal(await count(s, 'otel_traces_trace_id_ts FINAL'), 60, 'the materialized views once too');
      assert.deepEqual(spoolFiles(config.database), []);
    });
  });

  test('a segment shorter than its manifest is set aside as failed-* and counted as dropped, not replayed; other databases\' segments are left alone', async () => {
    const config = walConfig({ batch_timeout: '10s' });
    const other = walConfig({ batch_timeout: '10s' });
    const t0 = baseTime();
    await withStore(new ClickHouseStore({ config, name: 'a', holdSpool: true }), (s) => s.writeTraces(batch(5, 0, t0), ctx));
    await withStore(new ClickHouseStore({ config: other, name: 'b', holdSpool: true }), (s) => s.writeTraces(batch(5, 0, t0), ctx));
    const spool = spoolDirOf(testDataDir());
    const [bin] = spoolFiles(config.database).map((f) => join(spool, f)) as [string];
    const { truncateSync } = await import('node:fs');
    truncateSync(bin, 10);
    const metrics = new SelfMetrics();
    await withStore(new ClickHouseStore({ config, name: 'a2', metrics }), async (s) => {
      assert.equal(await count(s), 0);
      assert.match(await metrics.registry.metrics(), /^skua_dropped_spans\{reason="spool_damaged",component="storage\/a2"\} 5$/m, 'counted as dropped, with the reason');
      assert.deepEqual(
        readdirSync(spool).filter((f) => f.includes(`-${config.database}-`)).map((f) => f.replace(/-.*\./, '.')),
        ['failed.bin', 'failed.json'],
      );
      assert.equal(spoolFiles(other.database).length, 2, 'the other database keeps its segment for its own store');
    });
    await withStore(new ClickHouseStore({ config: other, name: 'b2' }), async (s) => assert.equal(await count(s), 5));
  });

  test('a segment whose INSERT fails is retried past retry_max_elapsed until it lands; one left at close is replayed by the next start', async () => {
    const config = walConfig({ batch_timeout: '10s', retry_max_elapsed: '100ms' });
    const t0 = baseTime();
    // Another store's connection moves the span table away and back (ClickHouse: "unknown table",
    // a retryable failure: a table dropped under us).
    const janitor = newTestStore();
    await janitor.start();
    const away = async (back: boolean): Promise<void> => {
      const [from, to] = back ? ['otel_traces_away', 'otel_traces'] : ['otel_traces', 'otel_traces_away'];
      await janitor.clickhouse.command({ query: `RENAME TABLE \`${config.database}\`.${from} TO \`${config.database}\`.${to}` });
    };
    try {
      await withStore(new ClickHouseStore({ config, name: 'retry' }), async (s) => {
        await away(false);
        await s.writeTraces(batch(10, 0, t0), ctx);
        const flushed = s.flush();
        await new Promise((r) => setTimeout(r, 600));
        assert.equal(s.pendingRows, 10, 'still pending after several failed attempts');
        assert.equal(spoolFiles(s.database).length, 2, 'the segment stays in the spool meanwhile');
        await away(true);
        await flushed;
        assert.equal(await count(s), 10);
        assert.deepEqual(spoolFiles(s.database), []);
        // Gone again at close: the segment cannot be inserted and stays for the next start.
        await away(false);
        await s.writeTraces(batch(7, 1, t0), ctx);
      });
      assert.equal(spoolFiles(config.database).length, 2, 'left in the spool by close');
      await away(true);
      await withStore(new ClickHouseStore({ config, name: 'retry-again' }), async (s) => {
        assert.equal(await count(s), 17, 'the next start inserted what close left');
        assert.deepEqual(spoolFiles(config.database), []);
      });
    } finally {
      await janitor.close();
    }
  });

  test('the spool is on by default for the embedded engine and refused for a server; its INSERTs are larger by default', async () => {
    const { configSchema, createDefaultConfig } = await import('./config.js');
    const r = configSchema.safeParse({ ...createDefaultConfig(), url: 'http://127.0.0.1:8123', write: { ...createDefaultConfig().write, wal: true } });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /write-ahead spool needs the embedded engine/);
    const rowsPerInsert = (s: ClickHouseStore): number => (s as unknown as { writer: { o: { batchMaxRows: number } } }).writer.o.batchMaxRows;
    const store = newTestStore({ write: { ...testConfig().write, wal: undefined } as Config['write'] });
    await withStore(store, async (s) => {
      await s.writeTraces(batch(3, 0, baseTime()), ctx);
      assert.equal(spoolFiles(s.database).length, 2, 'acknowledged from the spool');
      assert.equal(rowsPerInsert(s), 200_000, 'segments of up to 200,000 rows by default');
      await s.flush();
    });
    // Without the spool (as with a server) INSERTs stay at 50,000 rows by default: their JSON text
    // is made on the JavaScript thread.
    await withStore(newTestStore(), async (s) => assert.equal(rowsPerInsert(s), 50_000));
  });
});
