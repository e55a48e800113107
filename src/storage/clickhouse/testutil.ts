/**
 * TEST ONLY: ClickHouse stores on the embedded engine. chDB holds one data directory per process,
 * so every store of a test process lives in one temporary directory, each in its own database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultConfig, type Config } from './config.js';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseStore, type ClickHouseStoreOptions } from './clickhouse.js';

let dir: string | undefined;
let n = 0;

/** The data directory shared by this process's embedded test stores (removed at exit). */
export function testDataDir(): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'skua-ch-test-'));
    const d = dir;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

export function uniqueDatabase(prefix = 't'): string {
  return `${prefix}_${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A config for an embedded store in the shared test directory, in a fresh database. Writes are
 * acknowledged once inserted (`wal: false`: a test reads what it wrote at once) unless `over`
 * turns the write-ahead spool on (see `flushingStore`).
 */
export function testConfig(over: Partial<Config> = {}): Config {
  const base = createDefaultConfig();
  return {
    ...base,
    embedded: { path: testDataDir() },
    database: uniqueDatabase(),
    ...over,
    write: { ...base.write, batch_timeout: '5ms', wal: false, ...(over.write ?? {}) },
  };
}

/**
 * `store` with every write followed by a flush: with the write-ahead spool a write is
 * acknowledged before its rows can be read (they are within ~1 s), which the conformance suite's
 * read-after-write checks do not wait for.
 */
export function flushingStore(store: ClickHouseStore): ClickHouseStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'writeTraces') {
        return async (...args: Parameters<ClickHouseStore['writeTraces']>) => {
          await target.writeTraces(...args);
          await target.flush();
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export function newTestStore(over: Partial<Config> = {}, extra: Partial<ClickHouseStoreOptions> = {}): ClickHouseStore {
  return new ClickHouseStore({ config: testConfig(over), name: 'test', ...extra });
}

/** Starts `store`, runs `fn` on it and closes it, whatever `fn` does. */
export async function withStore<R>(store: ClickHouseStore, fn: (s: ClickHouseStore) => Promise<R>): Promise<R> {
  await store.start();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Calls `fn` with every span INSERT statement a started `store` runs, on whichever of its insert
 * connections, before the statement is run (so `fn` may change what the engine finds).
 */
export function watchInserts(store: ClickHouseStore, fn: (query: string) => void): void {
  const conn = (store as unknown as { conn: { inserters: readonly ClickHouseClient[] } }).conn;
  for (const client of new Set(conn.inserters)) {
    const command = client.command.bind(client);
    client.command = (p) => {
      if (/^INSERT INTO \S+\.`?otel_traces`? /.test(p.query)) fn(p.query);
      return command(p);
    };
  }
}
