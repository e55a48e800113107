/**
 * The write path: rows of concurrent `writeTraces` calls are gathered into INSERTs sized for
 * ClickHouse (up to `batch_max_rows` / `batch_max_bytes`, or what arrived within `batch_timeout`),
 * each caller resolved once the INSERT holding its rows has returned (the data is then in a part on
 * disk: an acknowledged export survives `kill -9`).
 *
 * - Retries: a failed INSERT is retried with the same `insert_deduplication_token`, so a retry of
 *   an INSERT that did land is dropped by ClickHouse instead of duplicating rows.
 * - Backpressure: at most `max_pending_rows` rows wait; beyond that, and while the store is down,
 *   writes fail fast with RetryableError (the receiver answers 503 / UNAVAILABLE).
 * - The event loop: rows are encoded when written (a few µs per span), and one INSERT is bounded
 *   in bytes; ClickHouse parses and writes on its own threads.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { PermanentError, RetryableError } from '../../component/errors.js';
import type { Traces } from '../../pdata/traces.js';
import { ProtoTraces } from '../../pdata/proto-view.js';
import { encodeRows, js, newDictionaries, type Dictionaries, type EncodedRows } from './rows.js';
import { encodeProtoRows, type RowSink } from './rows-proto.js';
import { insertSql, type InsertBatch } from './insert.js';
import { T, tableRef } from './schema.js';
import { classify, describe, toStorageError } from './client.js';

export interface WriterOptions {
  readonly database: string;
  readonly batchMaxRows: number;
  readonly batchMaxBytes: number;
  readonly batchTimeoutMs: number;
  readonly maxPendingRows: number;
  readonly concurrency: number;
  readonly retryMaxElapsedMs: number;
  /** Cluster mode: wait for the shards (not only the initiator's queue) before acknowledging. */
  readonly distributed: boolean;
  /** Record the keys of resource/scope/link attributes (schema version 2 and later). */
  readonly recordKeys: boolean;
  /** Called after new attribute keys were recorded. */
  readonly onNewKeys?: () => void;
  readonly where: string;
  /** Embedded engine: hand the rows of each INSERT over as a file in this directory (see insertSql). */
  readonly spoolDir?: string;
  /** Called with a description of each failed attempt (for logs). */
  readonly onError?: (message: string, final: boolean) => void;
}

interface Pending {
  readonly tenant: string;
  readonly rows: EncodedRows;
  readonly bytes: number;
  resolve(): void;
  reject(err: Error): void;
}

const MAX_BACKOFF_MS = 2000;
const PROBE_INTERVAL_MS = 1000;

export class BatchWriter {
  private readonly dicts: Dictionaries = newDictionaries();
  private queue: Pending[] = [];
  private queuedRows = 0;
  private queuedBytes = 0;
  /** Rows accepted and not yet acknowledged (queued + in flight). */
  private pendingRows = 0;
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set while ClickHouse is failing: writes are refused until a probe succeeds. */
  private down: { since: number; message: string } | undefined;
  private probe: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private draining = false;
  /** Non-indexed attribute keys known to be recorded (tenant \0 source \0 key), for `knownDay`. */
  private readonly knownKeys = new Set<string>();
  private knownDay = 0;
  /** Writes being encoded (not yet queued). */
  private encoding = 0;
  /** When the last INSERT started (ms). */
  private lastStart = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly o: WriterOptions,
  ) {}

  /** Rows waiting or being inserted. */
  get pending(): number {
    return this.pendingRows;
  }

  write(td: Traces, tenant: string): Promise<void> {
    if (this.closed) return Promise.reject(new RetryableError('the ClickHouse store is shutting down', { retryAfterMs: 1000 }));
    if (td.spanCount === 0) return Promise.resolve();
    if (this.down) {
      return Promise.reject(new RetryableError(`the ClickHouse store is unavailable: ${this.down.message}`, { retryAfterMs: PROBE_INTERVAL_MS }));
    }
    if (this.pendingRows + td.spanCount > this.o.maxPendingRows && this.pendingRows > 0) {
      return Promise.reject(
        new RetryableError(`the ClickHouse store is busy: ${this.pendingRows} spans are waiting to be inserted (write.max_pending_rows ${this.o.maxPendingRows})`, {
          retryAfterMs: 500,
        }),
      );
    }
    // Counted before encoding: concurrent writes see each other's rows at once.
    this.pendingRows += td.spanCount;
    this.encoding++;
    return this.encodeAndQueue(td, tenant).finally(() => {
      this.encoding--;
      this.checkIdle();
    });
  }

  private async encodeAndQueue(td: Traces, tenant: string): Promise<void> {
    let rows: EncodedRows;
    try {
      rows = await encodeTracesAsync(td, tenant, this.dicts);
    } catch (err) {
      this.pendingRows -= td.spanCount;
      throw err instanceof PermanentError ? err : new PermanentError(`cannot encode spans: ${(err as Error).message}`, { cause: err });
    }
    this.pendingRows += rows.rows - td.spanCount;
    if (rows.rows === 0) return;
    if (this.down) {
      this.pendingRows -= rows.rows;
      throw new RetryableError(`the ClickHouse store is unavailable: ${this.down.message}`, { retryAfterMs: PROBE_INTERVAL_MS });
    }
    return new Promise<void>((resolve, reject) => {
      const bytes = rows.bytes;
      this.queue.push({ tenant, rows, bytes, resolve, reject });
      this.queuedRows += rows.rows;
      this.queuedBytes += bytes;
      if (this.closed || this.draining) this.pump(true, true);
      else this.schedule();
    });
  }

  private checkIdle(): void {
    if (this.inflight === 0 && this.queue.length === 0 && this.encoding === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Inserts what is queued now (used by close and tests). */
  async flush(): Promise<void> {
    this.draining = true;
    try {
      this.pump(true, true);
      await this.idle();
    } finally {
      this.draining = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return this.idle();
    this.closed = true;
    if (this.probe) clearTimeout(this.probe);
    this.probe = undefined;
    // A store that is down cannot take what is queued: fail it now rather than hang shutdown.
    if (this.down) this.failQueued(new RetryableError(`the ClickHouse store is unavailable: ${this.down.message}`, { retryAfterMs: 1000 }));
    this.pump(true, true);
    await this.idle();
  }

  private idle(): Promise<void> {
    if (this.inflight === 0 && this.queue.length === 0 && this.encoding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Full batches start as soon as a slot is free. Partial ones start at most once per
   * `batch_timeout` (so a trickle of small writes makes few parts), right away after a quiet period.
   */
  private schedule(): void {
    if (this.queue.length === 0 || this.inflight >= this.o.concurrency) return;
    if (this.queuedRows >= this.o.batchMaxRows || this.queuedBytes >= this.o.batchMaxBytes) {
      this.pump(false);
      return;
    }
    const wait = this.lastStart + this.o.batchTimeoutMs - Date.now();
    if (wait <= 0) {
      this.pump(true);
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump(true);
      }, wait);
    }
  }

  /**
   * Starts INSERTs while slots are free: full batches always; one partial batch when `partial`
   * (every partial batch when `drain`, on flush and close).
   */
  private pump(partial: boolean, drain = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    let startedPartial = false;
    while (this.queue.length > 0 && this.inflight < this.o.concurrency) {
      const full = this.queuedRows >= this.o.batchMaxRows || this.queuedBytes >= this.o.batchMaxBytes;
      if (!full && !drain && (!partial || startedPartial)) break;
      if (!full) startedPartial = true;
      const batch: Pending[] = [];
      let rows = 0;
      let bytes = 0;
      while (this.queue.length > 0) {
        const p = this.queue[0]!;
        if (batch.length > 0 && (rows + p.rows.rows > this.o.batchMaxRows || bytes + p.bytes > this.o.batchMaxBytes)) break;
        this.queue.shift();
        batch.push(p);
        rows += p.rows.rows;
        bytes += p.bytes;
      }
      this.queuedRows -= rows;
      this.queuedBytes -= bytes;
      this.inflight++;
      this.lastStart = Date.now();
      void this.insert(batch, rows).finally(() => {
        this.inflight--;
        this.pendingRows -= rows;
        if (this.queue.length > 0) {
          if (this.closed || this.draining) this.pump(true, true);
          else this.schedule();
        } else this.checkIdle();
      });
    }
    if (this.queue.length > 0) {
      if (!drain) this.schedule();
    } else this.checkIdle();
  }

  private async insert(batch: Pending[], rows: number): Promise<void> {
    const owners = new Map<number, string>();
    const keysets = new Map<number, string>();
    const bodies: Buffer[] = [];
    for (const p of batch) {
      for (const [k, v] of p.rows.owners) owners.set(k, v);
      for (const [k, v] of p.rows.keysets) keysets.set(k, v);
      bodies.push(...p.rows.body);
    }
    const inserted = { body: bodies, owners, keysets };
    const token = randomUUID();
    let file: string | undefined;
    if (this.o.spoolDir) {
      const f = join(this.o.spoolDir, `${token}.bin`);
      try {
        await writeFile(f, inserted.body);
        file = f;
      } catch (err) {
        this.o.onError?.(`${this.o.where}: cannot write "${f}" (${(err as Error).message}); the rows go in the INSERT statement instead`, false);
      }
    }
    try {
      await this.insertWith(batch, rows, inserted, token, file);
    } finally {
      // Synchronously (~20 µs): the batch's callers are resolved, its rows leave `pending` next.
      if (file) {
        try {
          rmSync(file, { force: true });
        } catch (err) {
          this.o.onError?.(`${this.o.where}: cannot remove "${file}": ${(err as Error).message}`, false);
        }
      }
    }
  }

  private async insertWith(batch: Pending[], rows: number, inserted: InsertBatch, token: string, file: string | undefined): Promise<void> {
    let sql = insertSql(this.o.database, inserted, file);
    const started = Date.now();
    const keys = this.o.recordKeys ? this.newKeys(batch) : [];
    let attempt = 0;
    for (;;) {
      try {
        if (keys.length > 0) {
          // Before the spans: a search must never miss spans whose keys it was not told about.
          await this.client.command({
            query: `INSERT INTO ${tableRef(this.o, T.attributeKeys)} (Tenant, Source, Key, Date) VALUES ${keys.map((_, i) => `({t${i}:String}, {s${i}:String}, {k${i}:String}, today())`).join(', ')}`,
            query_params: Object.fromEntries(keys.flatMap((k, i) => [[`t${i}`, k[0]], [`s${i}`, k[1]], [`k${i}`, k[2]]])),
            clickhouse_settings: { async_insert: 0 },
          });
          for (const k of keys) this.knownKeys.add(k.join('\u0000'));
          keys.length = 0;
          this.o.onNewKeys?.();
        }
        await this.client.command({
          query: sql,
          clickhouse_settings: {
            max_query_size: String(sql.length * 3 + 1_048_576),
            insert_deduplication_token: token,
            deduplicate_blocks_in_dependent_materialized_views: 1,
            async_insert: 0,
            ...(this.o.distributed ? { distributed_foreground_insert: 1 } : {}),
          },
        });
        this.down = undefined;
        for (const p of batch) p.resolve();
        return;
      } catch (err) {
        attempt++;
        if (file !== undefined && keys.length === 0) {
          // The spans' INSERT failed (keys still pending means the attribute-key INSERT did):
          // whatever the cause, the next attempt carries the rows in the statement, so that a spool
          // file that went missing cannot turn into lost data. Same dedup token, same rows.
          this.o.onError?.(describe(err, this.o.where, `insert of ${rows} spans from "${file}" (attempt ${attempt})`), false);
          file = undefined;
          sql = insertSql(this.o.database, inserted);
          continue;
        }
        const info = classify(err);
        const elapsed = Date.now() - started;
        const final = !info.retryable || elapsed >= this.o.retryMaxElapsedMs || this.closed;
        this.o.onError?.(describe(err, this.o.where, `insert of ${rows} spans (attempt ${attempt})`), final);
        if (!final) {
          await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** attempt));
          continue;
        }
        if (!info.retryable && batch.length > 1) {
          // One caller's data may be at fault: insert each caller's rows on its own.
          await Promise.all(batch.map((p) => this.insert([p], p.rows.rows).catch(() => undefined)));
          return;
        }
        const e = toStorageError(err, this.o.where, `insert of ${rows} spans into ClickHouse failed`);
        if (e instanceof RetryableError && (info.network || info.auth)) this.markDown(describe(err, this.o.where, 'insert failed'));
        for (const p of batch) p.reject(e);
        return;
      }
    }
  }

  /** (tenant, source, key) of non-indexed attributes not yet recorded today. */
  private newKeys(batch: readonly Pending[]): [string, string, string][] {
    const day = Math.floor(Date.now() / 86_400_000);
    if (day !== this.knownDay) {
      this.knownKeys.clear(); // re-recorded daily, so that retention never drops a key in use
      this.knownDay = day;
    }
    const out: [string, string, string][] = [];
    const seen = new Set<string>();
    for (const p of batch) {
      for (const sk of p.rows.attrKeys) {
        const id = p.tenant + '\u0000' + sk;
        if (this.knownKeys.has(id) || seen.has(id)) continue;
        seen.add(id);
        const i = sk.indexOf('\u0000');
        out.push([p.tenant, sk.slice(0, i), sk.slice(i + 1)]);
      }
    }
    if (this.knownKeys.size > 100_000) this.knownKeys.clear();
    return out;
  }

  private markDown(message: string): void {
    if (this.down) return;
    this.down = { since: Date.now(), message };
    this.failQueued(new RetryableError(`the ClickHouse store is unavailable: ${message}`, { retryAfterMs: PROBE_INTERVAL_MS }));
    const probe = async (): Promise<void> => {
      this.probe = undefined;
      if (this.closed) return;
      const r = await this.client.ping().catch((e: unknown) => ({ success: false as const, error: e as Error }));
      if (r.success) {
        this.down = undefined;
        return;
      }
      this.probe = setTimeout(() => void probe(), PROBE_INTERVAL_MS);
      this.probe.unref();
    };
    this.probe = setTimeout(() => void probe(), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  private failQueued(err: Error): void {
    const q = this.queue;
    this.queue = [];
    for (const p of q) {
      this.pendingRows -= p.rows.rows;
      p.reject(err);
    }
    this.queuedRows = 0;
    this.queuedBytes = 0;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/** Longest the encoding runs before it lets other work in (ms). */
const ENCODE_SLICE_MS = 4;

/** encodeTraces, part by part, yielding to the event loop every few milliseconds. */
export async function encodeTracesAsync(td: Traces, tenant: string, dicts: Dictionaries): Promise<EncodedRows> {
  const parts = td.parts();
  if (parts.length === 1) return encodeTraces(td, tenant, dicts);
  const out: RowSink = { body: [], bytes: 0, rows: 0, owners: new Map(), keysets: new Map(), attrKeys: new Set() };
  let sliceStart = performance.now();
  for (const p of parts) {
    addRows(out, encodeTraces(p, tenant, dicts));
    if (performance.now() - sliceStart > ENCODE_SLICE_MS) {
      await new Promise<void>((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  return out;
}

/** Appends the rows `e` (and the dictionary entries and keys they refer to) to `out`. */
function addRows(out: RowSink, e: EncodedRows): void {
  out.body.push(...e.body);
  out.bytes += e.bytes;
  out.rows += e.rows;
  for (const [k, v] of e.owners) out.owners.set(k, v);
  for (const [k, v] of e.keysets) out.keysets.set(k, v);
  for (const k of e.attrKeys) out.attrKeys.add(k);
}

/** Rows of every part: straight from protobuf bytes when the part is a decoded request. */
export function encodeTraces(td: Traces, tenant: string, dicts: Dictionaries): EncodedRows {
  const parts = td.parts();
  if (parts.length === 1 && !(parts[0] instanceof ProtoTraces)) return encodeRows(td.resourceSpans(), tenant, dicts);
  const out: RowSink = { body: [], bytes: 0, rows: 0, owners: new Map(), keysets: new Map(), attrKeys: new Set() };
  const tenantJson = js(tenant);
  for (const p of parts) {
    if (p instanceof ProtoTraces) {
      encodeProtoRows(p, tenantJson, dicts, out);
      continue;
    }
    addRows(out, encodeRows(p.resourceSpans(), tenant, dicts));
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
