/**
 * The write path: rows of concurrent `writeTraces` calls are gathered into INSERTs sized for
 * ClickHouse (up to `batch_max_rows` / `batch_max_bytes`, or what arrived within `batch_timeout`).
 * Each caller is resolved once its rows are durable — an acknowledged export survives `kill -9`:
 *
 * - with the write-ahead spool (`wal`, the embedded engine's default), once its rows are appended
 *   to the open spool segment (`wal-<database>-…bin`, and a line in its `.json` manifest naming the
 *   rows' end and the dictionary entries they use; both fsynced with `fsync`). A segment is
 *   inserted whole, by its file, when full, after `batch_timeout` while no INSERT runs, or after a
 *   second at most, with its name as the deduplication token; the next start replays the
 *   segments left (up to the manifest's last line: a torn append was never acknowledged). The
 *   INSERTs then hold as many rows as `batch_max_rows` whatever the senders' concurrency: fewer
 *   parts and less merging than INSERTs bounded by the spans in flight. Readers see a write once
 *   its segment is inserted (within ~1–2 s under load; `flush` for at once), as with any
 *   batching store; a query never waits for INSERTs. Acknowledgements wait (flow control) while
 *   more rows than `concurrency + 1` segments hold are not yet inserted;
 * - without it (a server), once the INSERT holding its rows has returned (the data is then in a
 *   part).
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
import { open, readdir, readFile, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
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
  /** Acknowledge once the rows are in the write-ahead spool in `spoolDir` (see the module's comment). */
  readonly wal?: boolean;
  /** fsync the spool's appends before acknowledging them. */
  readonly fsync?: boolean;
  /** Connections for the span INSERTs (default: the writer's client); each INSERT takes the least busy. */
  readonly inserters?: readonly ClickHouseClient[];
  /** Called with spans that were acknowledged and cannot be stored (a spool segment set aside). */
  readonly onDropped?: (spans: number, reason: string) => void;
  /** Tests only: never insert spool segments (what a crash leaves in the spool). */
  readonly holdSpool?: boolean;
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
/** Longest a spool segment stays open (ms): how long a write may wait for its INSERT. */
const MAX_SEGMENT_AGE_MS = 1000;

/** An open or sealed segment of the write-ahead spool. */
interface Segment {
  /** File name base, and the INSERT's deduplication token (the same when replayed). */
  readonly name: string;
  readonly bin: string;
  readonly meta: string;
  readonly openedAt: number;
  binFile?: FileHandle;
  metaFile?: FileHandle;
  /** Bytes and rows appended or being appended. */
  bytes: number;
  rows: number;
  /** Bytes and rows of the appends that completed (what may be acknowledged and inserted). */
  doneBytes: number;
  doneRows: number;
  readonly owners: Map<number, string>;
  readonly keysets: Map<number, string>;
  /** tenant \0 source \0 key of the attribute keys of its rows. */
  readonly attrKeys: Set<string>;
  /** The appends, one after the other. */
  chain: Promise<void>;
  broken: boolean;
}

/** Segment files of `database` are named `wal-<database>-<time>-<uuid>`. */
function segmentPrefix(database: string): string {
  return `wal-${database}-`;
}

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
  /** Write-ahead spool: the open segment, and the sealed ones waiting for an INSERT slot. */
  private segment: Segment | undefined;
  private sealed: Segment[] = [];
  private sealTimer: NodeJS.Timeout | undefined;
  /** INSERTs running on each of `inserters`. */
  private readonly inserting: number[] = [];
  /** Writes waiting for room (flow control) before they are acknowledged. */
  private roomWaiters: (() => void)[] = [];
  /** Spool: rows not yet inserted beyond which acknowledgements wait (`concurrency + 1` segments). */
  private readonly room: number;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly o: WriterOptions,
  ) {
    this.room = Math.min(o.batchMaxRows * (o.concurrency + 1), Math.floor(o.maxPendingRows * 0.75));
  }

  /** Rows waiting or being inserted. */
  get pending(): number {
    return this.pendingRows;
  }

  private get walOn(): boolean {
    return this.o.wal === true && this.o.spoolDir !== undefined;
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
    if (this.walOn) return this.append(rows, tenant);
    return new Promise<void>((resolve, reject) => {
      const bytes = rows.bytes;
      this.queue.push({ tenant, rows, bytes, resolve, reject });
      this.queuedRows += rows.rows;
      this.queuedBytes += bytes;
      if (this.closed || this.draining) this.pump(true, true);
      else this.schedule();
    });
  }

  private isIdle(): boolean {
    return this.inflight === 0 && this.queue.length === 0 && this.encoding === 0 && this.segment === undefined && this.sealed.length === 0;
  }

  private checkIdle(): void {
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Inserts what is queued now (used by close and tests). */
  async flush(): Promise<void> {
    this.draining = true;
    try {
      this.seal();
      this.pump(true, true);
      await this.idle();
    } finally {
      this.draining = false;
    }
  }

  // ----------------------------------------------------------------------------------------------
  // The write-ahead spool
  // ----------------------------------------------------------------------------------------------

  private newSegment(): Segment {
    const name = `${segmentPrefix(this.o.database)}${Date.now().toString(36).padStart(9, '0')}-${randomUUID()}`;
    return {
      name,
      bin: join(this.o.spoolDir!, `${name}.bin`),
      meta: join(this.o.spoolDir!, `${name}.json`),
      openedAt: Date.now(),
      bytes: 0,
      rows: 0,
      doneBytes: 0,
      doneRows: 0,
      owners: new Map(),
      keysets: new Map(),
      attrKeys: new Set(),
      chain: Promise.resolve(),
      broken: false,
    };
  }

  /** Appends the rows to the open segment; resolves (the acknowledgement) once they are durable. */
  private async append(rows: EncodedRows, tenant: string): Promise<void> {
    const seg = (this.segment ??= this.newSegment());
    // The dictionary entries and attribute keys this segment has not recorded yet.
    const owners: [number, string][] = [];
    for (const [k, v] of rows.owners) if (!seg.owners.has(k)) owners.push([k, v]);
    const keysets: [number, string][] = [];
    for (const [k, v] of rows.keysets) if (!seg.keysets.has(k)) keysets.push([k, v]);
    const keys: string[] = [];
    for (const sk of rows.attrKeys) {
      const id = tenant + '\u0000' + sk;
      if (!seg.attrKeys.has(id)) keys.push(id);
    }
    for (const [k, v] of owners) seg.owners.set(k, v);
    for (const [k, v] of keysets) seg.keysets.set(k, v);
    for (const k of keys) seg.attrKeys.add(k);
    seg.bytes += rows.bytes;
    seg.rows += rows.rows;
    const end = seg.bytes;
    const total = seg.rows;
    const line = JSON.stringify({ end, rows: total, owners, keysets, keys }) + '\n';
    const done = seg.chain.then(async () => {
      if (seg.broken) throw new Error('an earlier append to this spool segment failed');
      if (!seg.binFile) {
        seg.binFile = await open(seg.bin, 'wx');
        seg.metaFile = await open(seg.meta, 'wx');
      }
      await writeAll(seg.binFile, rows.body, end - rows.bytes);
      await seg.metaFile!.writeFile(line);
      if (this.o.fsync) {
        await seg.binFile.datasync();
        await seg.metaFile!.datasync();
      }
      seg.doneBytes = end;
      seg.doneRows = total;
    });
    seg.chain = done.catch(() => {
      seg.broken = true;
    });
    if (seg.rows >= this.o.batchMaxRows || seg.bytes >= this.o.batchMaxBytes || this.closed || this.draining) this.seal();
    else this.scheduleSeal();
    try {
      await done;
    } catch (err) {
      this.pendingRows -= rows.rows;
      if (this.segment === seg) this.seal();
      this.o.onError?.(`${this.o.where}: cannot append to the write-ahead spool "${seg.bin}": ${(err as Error).message}`, false);
      throw new RetryableError(`the ClickHouse store cannot write its spool: ${(err as Error).message}`, { retryAfterMs: 1000, cause: err });
    }
    // Flow control: acknowledge once the rows not yet inserted fit in the segments INSERTs can take.
    while (this.pendingRows > this.room && !this.closed && !this.down && (this.inflight > 0 || this.sealed.length > 0)) {
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
  }

  /** Seals the open segment when it is old enough (see the module's comment). */
  private scheduleSeal(): void {
    const seg = this.segment;
    if (!seg || this.sealTimer) return;
    const age = Date.now() - seg.openedAt;
    const wait = this.inflight === 0 ? this.o.batchTimeoutMs - age : MAX_SEGMENT_AGE_MS - age;
    if (wait <= 0) {
      this.seal();
      return;
    }
    this.sealTimer = setTimeout(() => {
      this.sealTimer = undefined;
      this.scheduleSeal();
    }, Math.min(wait, Math.max(1, this.o.batchTimeoutMs)));
  }

  /** Closes the open segment for writes and queues it for its INSERT. */
  private seal(): void {
    if (this.sealTimer) {
      clearTimeout(this.sealTimer);
      this.sealTimer = undefined;
    }
    const seg = this.segment;
    if (!seg) return;
    this.segment = undefined;
    this.sealed.push(seg);
    this.pumpSegments();
  }

  private pumpSegments(): void {
    while (this.sealed.length > 0 && this.inflight < this.o.concurrency) {
      const seg = this.sealed.shift()!;
      this.inflight++;
      void this.insertSegment(seg).finally(() => {
        this.inflight--;
        for (const w of this.roomWaiters.splice(0)) w();
        this.pumpSegments();
        if (this.segment) this.scheduleSeal();
        this.checkIdle();
      });
    }
  }

  /** Inserts a sealed segment by its file (retried until it lands, or until close). */
  private async insertSegment(seg: Segment): Promise<void> {
    await seg.chain;
    try {
      await seg.binFile?.close();
      await seg.metaFile?.close();
      // A failed append may have left bytes past the last acknowledged row.
      if (seg.bytes !== seg.doneBytes && seg.doneRows > 0) await truncate(seg.bin, seg.doneBytes);
    } catch (err) {
      this.o.onError?.(`${this.o.where}: spool segment "${seg.bin}": ${(err as Error).message}`, false);
    }
    const rows = seg.doneRows;
    if (this.o.holdSpool) return;
    if (rows > 0) {
      this.newDay();
      const keys = [...seg.attrKeys].filter((k) => !this.knownKeys.has(k)).map((k) => k.split('\u0000') as [string, string, string]);
      const ok = await this.insertSpooled(seg.name, seg.bin, { body: [], owners: seg.owners, keysets: seg.keysets }, rows, keys, true);
      if (!ok) {
        // Left on disk: replayed by the next start. Its rows stay counted as pending.
        return;
      }
    }
    this.pendingRows -= rows;
    await removeSegment(seg.bin, seg.meta, (m) => this.o.onError?.(`${this.o.where}: ${m}`, false));
  }

  /**
   * The INSERT of spooled rows (a segment, or one replayed at start) with its name as the
   * deduplication token, retried while it fails with a retryable error: until it lands (true), or
   * until close, or (not `untilClose`: a replay at start) `retry_max_elapsed` (false: the files
   * stay for the next start); past `retry_max_elapsed` a store that cannot be reached is marked
   * down (new writes refused). An INSERT ClickHouse rejects for what it contains moves the files
   * aside (`failed-…`), logged and counted as dropped: it cannot be taken back.
   */
  private async insertSpooled(token: string, file: string, batch: InsertBatch, rows: number, keys: [string, string, string][], untilClose: boolean): Promise<boolean> {
    const sql = insertSql(this.o.database, batch, file);
    const started = Date.now();
    let attempt = 0;
    for (;;) {
      try {
        if (keys.length > 0) {
          await this.insertKeys(keys);
          keys = [];
        }
        await this.insertStatement(sql, token);
        this.down = undefined;
        return true;
      } catch (err) {
        attempt++;
        const info = classify(err);
        const late = Date.now() - started >= this.o.retryMaxElapsedMs;
        const what = `insert of ${rows} spooled spans from "${file}" (attempt ${attempt})`;
        if (!info.retryable) {
          this.o.onError?.(`${describe(err, this.o.where, what)}; the segment is kept as failed-*, not retried`, true);
          await this.setAside(token, rows, 'storage_rejected');
          return true;
        }
        this.o.onError?.(describe(err, this.o.where, what), late);
        if (late && (info.network || info.auth)) this.markDown(describe(err, this.o.where, 'insert failed'));
        if (this.closed || (late && !untilClose)) return false;
        await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** attempt));
        if (this.closed) return false;
      }
    }
  }

  /**
   * Replays the segments of this database a previous run left in the spool (its acknowledged
   * rows not yet inserted): up to each manifest's last complete line. Run before the first write.
   */
  async recover(): Promise<void> {
    const dir = this.o.spoolDir;
    if (!dir) return;
    const prefix = segmentPrefix(this.o.database);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith(prefix) && f.endsWith('.json')).sort();
    for (const f of names) {
      const name = f.slice(0, -'.json'.length);
      const bin = join(dir, `${name}.bin`);
      const meta = join(dir, f);
      const m = parseManifest(await readFile(meta, 'utf8'));
      const size = await stat(bin).then((st) => st.size, () => -1);
      if (m.rows > 0 && size < m.end) {
        this.o.onError?.(`${this.o.where}: spool segment "${bin}" is shorter (${size} bytes) than its manifest says (${m.end}); kept as failed-*, not replayed`, true);
        await this.setAside(name, m.rows, 'spool_damaged');
        continue;
      }
      if (m.rows > 0) {
        if (size > m.end) await truncate(bin, m.end);
        const ok = await this.insertSpooled(name, bin, { body: [], owners: m.owners, keysets: m.keysets }, m.rows, m.keys, false);
        if (!ok) throw new RetryableError(`the ClickHouse store could not replay its spool segment "${bin}"`);
      }
      await removeSegment(bin, meta, (msg) => this.o.onError?.(`${this.o.where}: ${msg}`, false));
      if (m.rows > 0) this.o.onError?.(`${this.o.where}: replayed ${m.rows} acknowledged spans from the write-ahead spool (${name})`, false);
    }
  }

  /** Renames a segment's files to `failed-<name>.*` (kept for inspection) and counts its spans as dropped. */
  private async setAside(name: string, rows: number, reason: string): Promise<void> {
    const dir = this.o.spoolDir!;
    for (const ext of ['.bin', '.json']) await rename(join(dir, name + ext), join(dir, `failed-${name}${ext}`)).catch(() => undefined);
    this.o.onDropped?.(rows, reason);
  }

  private async insertKeys(keys: readonly (readonly [string, string, string])[]): Promise<void> {
    // Before the spans: a search must never miss spans whose keys it was not told about.
    await this.client.command({
      query: `INSERT INTO ${tableRef(this.o, T.attributeKeys)} (Tenant, Source, Key, Date) VALUES ${keys.map((_, i) => `({t${i}:String}, {s${i}:String}, {k${i}:String}, today())`).join(', ')}`,
      query_params: Object.fromEntries(keys.flatMap((k, i) => [[`t${i}`, k[0]], [`s${i}`, k[1]], [`k${i}`, k[2]]])),
      clickhouse_settings: { async_insert: 0 },
    });
    for (const k of keys) this.knownKeys.add(k.join('\u0000'));
    this.o.onNewKeys?.();
  }

  private async insertStatement(sql: string, token: string): Promise<void> {
    const clients = this.o.inserters ?? [this.client];
    let i = 0;
    for (let j = 1; j < clients.length; j++) if ((this.inserting[j] ?? 0) < (this.inserting[i] ?? 0)) i = j;
    this.inserting[i] = (this.inserting[i] ?? 0) + 1;
    try {
      await this.insertOn(clients[i]!, sql, token);
    } finally {
      this.inserting[i]!--;
    }
  }

  private async insertOn(client: ClickHouseClient, sql: string, token: string): Promise<void> {
    await client.command({
      query: sql,
      clickhouse_settings: {
        max_query_size: String(sql.length * 3 + 1_048_576),
        insert_deduplication_token: token,
        deduplicate_blocks_in_dependent_materialized_views: 1,
        async_insert: 0,
        ...(this.o.distributed ? { distributed_foreground_insert: 1 } : {}),
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return this.idle();
    this.closed = true;
    if (this.probe) clearTimeout(this.probe);
    this.probe = undefined;
    // A store that is down cannot take what is queued: fail it now rather than hang shutdown.
    if (this.down) this.failQueued(new RetryableError(`the ClickHouse store is unavailable: ${this.down.message}`, { retryAfterMs: 1000 }));
    for (const w of this.roomWaiters.splice(0)) w();
    this.seal();
    this.pump(true, true);
    // A segment a failing store could not take stays in the spool for the next start.
    await this.idle();
  }

  private idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
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
          await this.insertKeys(keys);
          keys.length = 0;
        }
        await this.insertStatement(sql, token);
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

  private newDay(): void {
    const day = Math.floor(Date.now() / 86_400_000);
    if (day !== this.knownDay) {
      this.knownKeys.clear(); // re-recorded daily, so that retention never drops a key in use
      this.knownDay = day;
    }
  }

  /** (tenant, source, key) of non-indexed attributes not yet recorded today. */
  private newKeys(batch: readonly Pending[]): [string, string, string][] {
    this.newDay();
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

interface Manifest {
  end: number;
  rows: number;
  owners: Map<number, string>;
  keysets: Map<number, string>;
  keys: [string, string, string][];
}

/** A segment's manifest up to its last complete line (a torn last line was never acknowledged). */
export function parseManifest(text: string): Manifest {
  const m: Manifest = { end: 0, rows: 0, owners: new Map(), keysets: new Map(), keys: [] };
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let e: { end: number; rows: number; owners: [number, string][]; keysets: [number, string][]; keys: string[] };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      break;
    }
    if (typeof e.end !== 'number' || typeof e.rows !== 'number') break;
    m.end = e.end;
    m.rows = e.rows;
    for (const [k, v] of e.owners) m.owners.set(k, v);
    for (const [k, v] of e.keysets) m.keysets.set(k, v);
    for (const k of e.keys) {
      if (seen.has(k)) continue;
      seen.add(k);
      m.keys.push(k.split('\u0000') as [string, string, string]);
    }
  }
  return m;
}

/** Writes all of `chunks` at `pos` (a write may take only part of them). */
async function writeAll(fh: FileHandle, chunks: readonly Buffer[], pos: number): Promise<void> {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    const batch = rest.slice(0, 512);
    let { bytesWritten } = await fh.writev(batch, pos);
    if (bytesWritten <= 0) throw new Error('the spool file takes no more bytes');
    pos += bytesWritten;
    let i = 0;
    while (i < batch.length && bytesWritten >= batch[i]!.length) bytesWritten -= batch[i++]!.length;
    rest = i < batch.length ? [batch[i]!.subarray(bytesWritten), ...batch.slice(i + 1), ...rest.slice(batch.length)] : rest.slice(batch.length);
  }
}

async function removeSegment(bin: string, meta: string, onError: (message: string) => void): Promise<void> {
  for (const f of [bin, meta]) await rm(f, { force: true }).catch((err: Error) => onError(`cannot remove "${f}": ${err.message}`));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
