/**
 * The `clickhouse` backend: a TraceStore over ClickHouse (a server, a cluster, or the embedded
 * chDB engine), with one SQL code path for all of them (see client.ts, schema.ts, writer.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { PermanentError, RetryableError } from '../../component/errors.js';
import type { TraceId, UnixNanos } from '../../pdata/model.js';
import { Traces } from '../../pdata/traces.js';
import type {
  Capabilities,
  DependencyLink,
  FoundTraceId,
  GetTraceParams,
  Operation,
  SpanKindName,
  StorageContext,
  TraceQuery,
  TraceStore,
} from '../api.js';
import { compareOperations, spanKindNames } from '../api.js';
import type { SelfMetrics } from '../../telemetry/metrics.js';
import { durationMs } from '../../confmap/schema.js';
import { ttlSeconds, type Config } from './config.js';
import { connect, describe, toStorageError, type Connected } from './client.js';
import { migrate } from './migrate.js';
import { ATTR_TOKENS, SECOND_KEY, T, storageTable, tableRef, timeKeyOf, type SchemaOptions, type TimeKey } from './schema.js';
import { KIND_STRINGS, SELECT_COLUMNS, RowDecoder, compactRows, groupRows, type DecodedRow } from './rows.js';
import { BatchWriter } from './writer.js';
import { version } from '../../service/version.js';

export interface ClickHouseStoreOptions {
  readonly config: Config;
  /** Backend name (for messages). */
  readonly name: string;
  readonly logger?: Logger;
  readonly metrics?: SelfMetrics;
  /** Tests only: stop migrations at this version (to create an "older" store). */
  readonly schemaVersion?: number;
  /** Tests only: leave the write-ahead spool's segments uninserted (what a crash leaves). */
  readonly holdSpool?: boolean;
}

/**
 * Default `write.batch_max_rows`. With the write-ahead spool a segment is read by the engine from
 * its file: large INSERTs cost the JavaScript thread nothing. Without it, a server's INSERT carries
 * its rows as JSON text made at once (~3 µs per span on the JavaScript thread): 50,000 rows keep
 * that under ~0.2 s.
 */
const SPOOL_BATCH_MAX_ROWS = 200_000;
const STATEMENT_BATCH_MAX_ROWS = 50_000;

/** Traces per span-fetching query. */
const FETCH_CHUNK = 50;
/** Traces starting within this span of time are fetched with one condition. */
const GROUP_SPAN_NS = 10n * 60n * 1_000_000_000n;
/** Minute key: spans of a trace are looked up over at most this many minutes (a year) from its first span. */
const MAX_TRACE_MINUTES = 527_040;
/** A found trace spanning at most this many time buckets is fetched by a constant (bucket, trace id) set. */
const PAIR_BUCKETS = 60;
/** (bucket, trace id) pairs per query (~50 bytes of SQL each; ClickHouse's max_query_size is 256 KiB). */
const PAIRS_PER_QUERY = 2000;
/** Up to this many buckets, pairConds writes its pairs per bucket (see there). */
const BUCKET_TERMS = 4;
/**
 * How far (ms) the spans of a found trace are guessed to lie from its matching spans: the guessed
 * buckets are read while the trace's time range is looked up, and a trace reaching beyond them is
 * read again (see searchSpans).
 */
const GUESS_MARGIN_MS = 500;

/**
 * The SETTINGS clause of the id queries and guessed span reads of a search by service, operation or
 * span kind alone: the blocks they decompress stay in the engine's uncompressed cache (embedded:
 * `uncompressed_cache_size`, 256 MiB by default; a server: its own setting, off by default) and the
 * next such search takes them from there — they all read the newest granules (the newest traces of
 * every service lie in the last seconds). Searches by attribute or duration and gets by id read
 * granules spread over the range, where filling the cache cost more than it saved (an attribute
 * search ~2.4 ms at 10M spans). A clause, not a client setting: the embedded connection applies
 * those as `SET`, which would stay on the connection for the statements after.
 */
const CACHED = ' SETTINGS use_uncompressed_cache = 1';

/**
 * The SETTINGS clause of a search's time-range lookup, which runs beside its guessed span read
 * (searchSpans): a few point lookups, on one thread, so that on a small machine the span read, which
 * the answer waits for, keeps more of the cores. A search by service at 10M spans on 2 cores: ~1.5
 * ms faster at p50 (two alternating runs of 300 searches). Also at the lowest OS priority
 * (`os_thread_priority = 19`) measured no faster, and a thread could not be given its priority back
 * without CAP_SYS_NICE.
 */
const BESIDE = ' SETTINGS max_threads = 1';
/** How long a selective search shape that matched fewer traces than asked is searched in one window. */
const NARROW_TTL_MS = 10 * 60_000;
/** How long a search's span-rate estimate is reused. */
const RATE_TTL_MS = 30_000;
/** How long the attribute key sources of a search are reused (writers here clear them sooner). */
const KEYS_TTL_MS = 10_000;

const KIND_BY_NAME: Record<SpanKindName, string> = {
  unspecified: 'Unspecified',
  internal: 'Internal',
  server: 'Server',
  client: 'Client',
  producer: 'Producer',
  consumer: 'Consumer',
};

export class ClickHouseStore implements TraceStore {
  private conn: Connected | undefined;
  private writer: BatchWriter | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  private readonly schema: SchemaOptions;
  private readonly log: Logger | undefined;
  /** Schema version of the open store. */
  private version = 0;
  /** Stops reporting skua_storage_pending_spans. */
  private unregister: (() => void) | undefined;
  /** The span table's time bucket (read from the table at start). */
  private timeKey: TimeKey = SECOND_KEY;
  /** Which keys occur in resource/scope/link attributes, per (tenant, keys) of a search. */
  private readonly keyCache = new Map<string, { at: number; sources: Map<string, Set<string>> }>();
  /** Span rate per search key (tenant, service, operation, kind): sizes the first search window. */
  private readonly rates = new Map<string, { at: number; perNs: number }>();
  /** When the service rates of a tenant were last primed (see primeServiceRates). */
  private readonly primed = new Map<string, number>();
  /** Selective search shapes that recently matched fewer traces than asked (→ time learned). */
  private readonly narrow = new Map<string, number>();
  /** Queries running per reader (see read). */
  private readonly running: number[] = [];

  constructor(private readonly o: ClickHouseStoreOptions) {
    this.schema = { database: o.config.database, ttlSeconds: ttlSeconds(o.config), cluster: o.config.cluster, embedded: o.config.embedded !== undefined };
    this.log = o.logger;
  }

  capabilities(): Capabilities {
    return { findTraceIds: true, dependencies: true, durable: true };
  }

  /** Where the data lives (URL or path), for messages. */
  get where(): string {
    return this.conn?.where ?? (this.o.config.embedded ? this.o.config.embedded.path : (this.o.config.url ?? ''));
  }

  async start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.closed) throw new Error(`clickhouse backend "${this.o.name}" is closed`);
    const what = `clickhouse backend "${this.o.name}"`;
    const conn = await connect(this.o.config);
    this.conn = conn;
    try {
      const ping = await conn.client.ping();
      if (!ping.success) throw ping.error;
      this.version = await migrate(conn.client, this.schema, {
        create: this.o.config.create_schema,
        where: conn.where,
        logger: this.log,
        skuaVersion: version,
        fsync: this.o.config.write.fsync,
        ...(this.o.schemaVersion !== undefined ? { targetVersion: this.o.schemaVersion } : {}),
      });
      const [row] = await this.rows<[string]>(
        'SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {table:String}',
        { db: this.schema.database, table: storageTable(this.schema, T.spans) },
        'read the span table',
      );
      if (row) this.timeKey = timeKeyOf(row[0]);
    } catch (err) {
      this.conn = undefined;
      await conn.close().catch(() => undefined);
      if (err instanceof PermanentError && /schema|version/i.test(err.message)) throw new Error(`${what}: ${err.message}`, { cause: err });
      throw new Error(describe(err, conn.where, `${what} cannot start`), { cause: err });
    }
    const w = this.o.config.write;
    const wal = (w.wal ?? conn.embedded) && conn.spoolDir !== undefined;
    this.writer = new BatchWriter(conn.client, {
      database: this.schema.database,
      batchMaxRows: w.batch_max_rows ?? (wal ? SPOOL_BATCH_MAX_ROWS : STATEMENT_BATCH_MAX_ROWS),
      batchMaxBytes: w.batch_max_bytes,
      batchTimeoutMs: durationMs(w.batch_timeout),
      maxPendingRows: w.max_pending_rows,
      concurrency: w.concurrency,
      retryMaxElapsedMs: durationMs(w.retry_max_elapsed),
      distributed: this.schema.cluster !== '',
      recordKeys: this.version >= 2,
      onNewKeys: () => this.keyCache.clear(),
      where: conn.where,
      ...(conn.spoolDir ? { spoolDir: conn.spoolDir } : {}),
      inserters: conn.inserters,
      wal,
      fsync: w.fsync,
      ...(this.o.holdSpool ? { holdSpool: true } : {}),
      onDropped: (spans, reason) => this.o.metrics?.dropped(reason, `storage/${this.o.name}`, spans),
      onError: (message, final) => {
        if (final) this.log?.error({ backend: this.o.name }, message);
        else this.log?.warn({ backend: this.o.name }, message);
      },
    });
    // What a previous run acknowledged and did not insert, before anything else is written.
    try {
      await this.writer.recover();
    } catch (err) {
      this.writer = undefined;
      this.conn = undefined;
      await conn.close().catch(() => undefined);
      throw new Error(describe(err, conn.where, `${what} cannot replay its write-ahead spool`), { cause: err });
    }
    const pending = (): number => this.writer?.pending ?? 0;
    this.unregister = this.o.metrics?.storagePending(this.o.name, pending);
    this.log?.info({ backend: this.o.name, where: conn.where, database: this.schema.database }, 'clickhouse store ready');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const w = this.writer;
    this.writer = undefined;
    await w?.close();
    this.unregister?.();
    const c = this.conn;
    this.conn = undefined;
    await c?.close();
  }

  private client(): ClickHouseClient {
    if (!this.conn) throw new Error(`clickhouse backend "${this.o.name}" is not started`);
    return this.conn.client;
  }

  /** Rows accepted and not yet inserted (for tests and metrics). */
  get pendingRows(): number {
    return this.writer?.pending ?? 0;
  }

  // ----------------------------------------------------------------------------------------------
  // Writer
  // ----------------------------------------------------------------------------------------------

  writeTraces(td: Traces, ctx: StorageContext): Promise<void> {
    if (!this.writer) {
      return Promise.reject(new RetryableError(`clickhouse backend "${this.o.name}" is ${this.closed ? 'shut down' : 'not started'}`, { retryAfterMs: 1000 }));
    }
    return this.writer.write(td, ctx.tenant);
  }

  /** Inserts what is waiting now (tests). */
  async flush(): Promise<void> {
    await this.writer?.flush();
  }

  // ----------------------------------------------------------------------------------------------
  // Queries
  // ----------------------------------------------------------------------------------------------

  private t(name: string): string {
    return tableRef(this.schema, name);
  }

  /** Runs `fn` with the reader that has the fewest queries running (see Connected.readers). */
  private async read<R>(fn: (client: ClickHouseClient) => Promise<R>): Promise<R> {
    if (!this.conn) throw new Error(`clickhouse backend "${this.o.name}" is not started`);
    const readers = this.conn.readers;
    let i = 0;
    for (let j = 1; j < readers.length; j++) if ((this.running[j] ?? 0) < (this.running[i] ?? 0)) i = j;
    this.running[i] = (this.running[i] ?? 0) + 1;
    try {
      return await fn(readers[i]!);
    } finally {
      this.running[i]!--;
    }
  }

  private async rows<R>(query: string, params: Record<string, unknown>, what: string): Promise<R[]> {
    try {
      return await this.read(async (client) => {
        const rs = await client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
        return compactRows<R>(await rs.text());
      });
    } catch (err) {
      throw toStorageError(err, this.where, what);
    }
  }

  /**
   * Adds the spans `where` selects to `decoder`'s rows (one decoder per request: it shares
   * resources and scopes across its answers). The answer is RowBinary (see SELECT_COLUMNS): `exec` hands over
   * its bytes as they come, from a server or the embedded engine alike (`query` knows only text
   * formats).
   */
  private async spans(decoder: RowDecoder, where: string, params: Record<string, unknown>, what: string, settings = ''): Promise<void> {
    try {
      const body = await this.read(async (client) => {
        const { stream } = await client.exec({
          query: `SELECT ${SELECT_COLUMNS} FROM ${this.t(T.spans)} WHERE ${where}${settings} FORMAT RowBinary`,
          query_params: params,
          // A server that fails after it has begun to answer appends the error to the body, which
          // binary rows cannot tell from data: it buffers the answer and fails with a status instead
          // (the answers are small; the embedded engine has no such setting and drops it).
          clickhouse_settings: { wait_end_of_query: 1 },
        });
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      });
      decoder.decode(body);
    } catch (err) {
      throw toStorageError(err, this.where, what);
    }
  }

  async getServices(ctx: StorageContext): Promise<string[]> {
    const rows = await this.rows<[string]>(
      `SELECT DISTINCT ServiceName FROM ${this.t(T.operations)} WHERE Tenant = {tenant:String} ORDER BY ServiceName`,
      { tenant: ctx.tenant },
      'get services',
    );
    return rows.map((r) => r[0]);
  }

  async getOperations(query: { serviceName: string; spanKind?: SpanKindName }, ctx: StorageContext): Promise<Operation[]> {
    const kind = query.spanKind ? KIND_BY_NAME[query.spanKind] : undefined;
    const rows = await this.rows<[string, string]>(
      `SELECT DISTINCT SpanName, SpanKind FROM ${this.t(T.operations)} WHERE Tenant = {tenant:String} AND ServiceName = {service:String}` +
        (kind ? ' AND SpanKind = {kind:String}' : ''),
      { tenant: ctx.tenant, service: query.serviceName, kind },
      'get operations',
    );
    const ops = rows.map(([name, k]) => ({ name, spanKind: kindName(k) }));
    return ops.sort(compareOperations);
  }

  async *getTraces(params: readonly GetTraceParams[], ctx: StorageContext): AsyncIterable<Traces[]> {
    const seen = new Set<string>();
    const list = params.filter((p) => !seen.has(p.traceId) && seen.add(p.traceId));
    for (let i = 0; i < list.length; i += FETCH_CHUNK) {
      const chunk = list.slice(i, i + FETCH_CHUNK);
      const out = await this.fetchTraces(chunk, ctx);
      if (out.length > 0) yield out;
    }
  }

  /** The spans of these traces; time hints (or the trace id → time range table) prune the scan. */
  private async fetchTraces(list: readonly GetTraceParams[], ctx: StorageContext): Promise<Traces[]> {
    const hinted = list.filter((p) => p.start !== undefined && p.end !== undefined);
    const bare = list.filter((p) => p.start === undefined || p.end === undefined).map((p) => p.traceId);
    const conds: string[] = [];
    const params: Record<string, unknown> = { tenant: ctx.tenant };
    if (hinted.length > 0) {
      // Traces close in time are fetched together: `TraceId IN (…)` within the hull of their
      // time ranges (one primary-key lookup per time bucket); groups far apart as separate conditions.
      const ranges = hinted.map((p) => ({ id: p.traceId as string, start: p.start!, end: p.end! }));
      ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      const groups: { ids: string[]; start: bigint; end: bigint }[] = [];
      for (const r of ranges) {
        const g = groups[groups.length - 1];
        if (g && r.start - g.start <= GROUP_SPAN_NS) {
          g.ids.push(r.id);
          if (r.end > g.end) g.end = r.end;
        } else groups.push({ ids: [r.id], start: r.start, end: r.end });
      }
      groups.forEach((g, i) => {
        params[`ids${i}`] = g.ids;
        params[`s${i}`] = nsParam(g.start);
        params[`e${i}`] = nsParam(g.end);
        conds.push(`(TraceId IN {ids${i}:Array(String)} AND ${timeCond(this.timeKey, `s${i}`, `e${i}`)})`);
      });
    }
    const decoder = new RowDecoder();
    if (conds.length > 0) await this.spans(decoder, `Tenant = {tenant:String} AND (${conds.join(' OR ')})`, params, 'get traces');
    // Traces without hints: their time ranges from the lookup table, then their spans by (time
    // bucket, trace id) — two queries, ~1.7 ms faster at 10M spans than the ranges in a subquery.
    if (bare.length > 0) await this.spanRows(await this.timeRanges(bare, ctx.tenant, 'get traces'), ctx.tenant, decoder, 'get traces');
    return [...toTraces(decoder.rows).values()];
  }

  /**
   * The search: spans matching every condition of `query` (on one span), newest first by the
   * trace's latest matching span. Time windows are scanned backwards from the newest possible
   * match, growing, until `searchDepth` traces are found or the range is exhausted: a trace found in
   * a later window outranks every trace of earlier windows, so the result is exact. Each window
   * takes three queries: its newest traces, then at once their time ranges and their spans where
   * they are guessed to lie (searchSpans), rarely a fourth for traces reaching beyond the guess.
   */
  async *findTraces(query: TraceQuery, ctx: StorageContext): AsyncIterable<Traces[]> {
    const plan = await this.planSearch(query, ctx);
    if (!plan) return;
    const seen = new Set<string>();
    for (const w of plan.windows()) {
      const q = this.windowTraces(plan, w, seen);
      // The window's newest traces, then their time ranges (lookup table) and spans by (time
      // bucket, trace id). Nested in one query, ClickHouse builds the sets one after the other: the
      // all-filters search took 123 ms at p50 instead of 106 ms at 10M spans, and finding the ids
      // inside the lookup's query took 15–17 ms instead of 7 + 4 ms.
      const found = await this.rows<WindowRow>(q.sql, q.params, 'find traces');
      const ids = found.map((r) => r[0]);
      const decoder = new RowDecoder();
      if (found.length > 0) await this.searchSpans(found, ctx.tenant, decoder, plan.settings);
      // In the window query's order (the latest matching span in the window, then id).
      const byId = toTraces(decoder.rows);
      const traces: Traces[] = [];
      for (const id of ids) {
        const td = byId.get(id);
        if (td && !seen.has(id)) {
          seen.add(id);
          traces.push(td);
        }
      }
      // Learnt before the last yield: the caller may stop there.
      const done = seen.size >= plan.depth;
      if (done) plan.learn(seen.size);
      if (traces.length > 0) yield traces;
      if (done) return;
    }
    plan.learn(seen.size);
  }

  /**
   * The query of a window's newest matching traces not yet `seen`, with its parameters: their ids
   * with the first and last start (ms) of their matching spans in the window.
   */
  private windowTraces(plan: SearchPlan, w: SearchWindow, seen: ReadonlySet<string>): { sql: string; params: Record<string, unknown> } {
    const sql =
      `SELECT TraceId, toUnixTimestamp64Milli(min(Timestamp)), toUnixTimestamp64Milli(max(Timestamp)) FROM ${this.t(T.spans)} WHERE ${plan.where} AND ${timeCond(this.timeKey, 'lo', 'hi', !w.first)}` +
      (seen.size > 0 ? ' AND TraceId NOT IN {seen:Array(String)}' : '') +
      ` GROUP BY TraceId ORDER BY max(Timestamp) DESC, TraceId LIMIT {n:UInt32}${plan.settings}`;
    return { sql, params: { ...plan.params, lo: nsParam(w.bottom), hi: nsParam(w.top), n: plan.depth - seen.size, seen: [...seen] } };
  }

  /** The ids `findTraces` returns, in the same order (no spans are read). */
  async *findTraceIds(query: TraceQuery, ctx: StorageContext): AsyncIterable<FoundTraceId[]> {
    const plan = await this.planSearch(query, ctx);
    if (!plan) return;
    const found: FoundTraceId[] = [];
    const ids = new Set<string>();
    for (const w of plan.windows()) {
      const q = this.windowTraces(plan, w, ids);
      const rows = await this.rows<WindowRow>(q.sql, q.params, 'find traces');
      for (const [id] of rows) {
        if (ids.has(id)) continue;
        ids.add(id);
        found.push({ traceId: id as TraceId });
      }
      if (found.length >= plan.depth) break;
    }
    plan.learn(found.length);
    if (found.length > 0) yield found;
  }

  /**
   * Adds to `decoder` the spans of a window's traces (`found`: id, first and last start in ms of its
   * matching spans). Their time ranges are looked up (timeRanges) while the buckets of their matching
   * spans ± GUESS_MARGIN_MS are read: the spans of a trace mostly lie close together. A trace whose
   * range reaches beyond that guess (or is not guessed: an id not as Skua writes them, or matching
   * spans over PAIR_BUCKETS apart) is then read whole by its range; one without a range row (not
   * visible yet) is left out, as `getTraces` does. The two reads go to different connections when
   * one is free, so that they run at once (the embedded engine runs one query per connection at a
   * time; see `inlining` in client.ts for its parameters), the lookup on one thread (BESIDE). At
   * 10M spans this took ~3 ms off the ~24 ms a search by service spends in the engine.
   */
  private async searchSpans(found: readonly WindowRow[], tenant: string, decoder: RowDecoder, settings: string): Promise<void> {
    const b = this.timeKey.seconds;
    const guess = new Map<string, readonly [string, number, number]>();
    for (const [id, first, last] of found) {
      const lo = bucketOfMs(Number(first) - GUESS_MARGIN_MS, b);
      const hi = bucketOfMs(Number(last) + GUESS_MARGIN_MS, b);
      if (HEX_ID.test(id) && hi - lo <= PAIR_BUCKETS * b) guess.set(id, [id, lo, hi]);
    }
    const guessed = async (): Promise<void> => {
      for (const cond of this.pairConds(guess.values())) await this.spans(decoder, `Tenant = {tenant:String} AND (${cond})`, { tenant }, 'find traces', settings);
    };
    // Both settle before anything else happens: no read is left writing into the decoder.
    const [ranges, read] = await Promise.allSettled([this.timeRanges(found.map((r) => r[0]), tenant, 'find traces', BESIDE), guessed()]);
    if (ranges.status === 'rejected') throw ranges.reason;
    if (read.status === 'rejected') throw read.reason;
    const again = new Map<string, [number, number]>();
    const drop = new Set<string>();
    for (const id of guess.keys()) if (!ranges.value.has(id)) drop.add(id);
    for (const [id, r] of ranges.value) {
      const g = guess.get(id);
      const [first, last] = bucketsOf(r[0], r[1], b);
      if (g === undefined || first < g[1] || last > g[2]) {
        again.set(id, r);
        drop.add(id);
      }
    }
    if (drop.size > 0) decoder.drop(drop);
    if (again.size > 0) await this.spanRows(again, tenant, decoder, 'find traces');
  }

  /** The traces' time ranges from the lookup table: id → [first second, last second + 1]. */
  private async timeRanges(ids: readonly string[], tenant: string, what: string, settings = ''): Promise<Map<string, [number, number]>> {
    const rows = await this.rows<[string, number, number]>(
      `SELECT TraceId, toUnixTimestamp(Start), toUnixTimestamp(End) FROM ${this.t(T.traceIdTs)} WHERE Tenant = {tenant:String} AND TraceId IN {ids:Array(String)}${settings}`,
      { tenant, ids },
      what,
    );
    // A trace's rows from parts not merged yet are combined here (0.6 ms less than GROUP BY).
    const ranges = new Map<string, [number, number]>();
    for (const [id, start, end] of rows) {
      const r = ranges.get(id);
      if (!r) ranges.set(id, [start, end]);
      else {
        if (start < r[0]) r[0] = start;
        if (end > r[1]) r[1] = end;
      }
    }
    return ranges;
  }

  /**
   * Adds to `decoder` the spans of traces with known time ranges (id → [first second, last
   * second + 1] from the lookup table), by their (time bucket, trace id) pairs, so that the
   * primary key reads only the granules holding them (see pairConds). Traces longer than
   * PAIR_BUCKETS, or with ids not as Skua writes them, take the condition of `spansOf` instead.
   */
  private async spanRows(ranges: ReadonlyMap<string, readonly [number, number]>, tenant: string, decoder: RowDecoder, what: string): Promise<void> {
    const b = this.timeKey.seconds;
    const buckets: [string, number, number][] = [];
    const long: string[] = [];
    for (const [id, [start, end]] of ranges) {
      const [first, last] = bucketsOf(start, end, b);
      if (!HEX_ID.test(id) || !(last - first <= PAIR_BUCKETS * b)) long.push(id);
      else buckets.push([id, first, last]);
    }
    for (const cond of this.pairConds(buckets)) await this.spans(decoder, `Tenant = {tenant:String} AND (${cond})`, { tenant }, what);
    if (long.length > 0) {
      await this.spans(decoder, `Tenant = {tenant:String} AND ${this.spansOf('{long:Array(String)}')}`, { tenant, long }, what);
    }
  }

  /**
   * Conditions on (time bucket, trace id) pairs, at most PAIRS_PER_QUERY pairs each, for traces
   * given as [id (lowercase hex), first bucket, last bucket] (seconds). Pairs in a few buckets (a
   * recent search) are written per bucket, `bucket = b AND TraceId IN (…)`: at 10M spans that
   * filters 1–1.5 ms faster than a tuple set, which is faster for pairs spread over many buckets.
   */
  private pairConds(traces: Iterable<readonly [string, number, number]>): string[] {
    const key = this.timeKey;
    const b = key.seconds;
    const chunks: Map<number, string[]>[] = [new Map()];
    let pairs = 0;
    for (const [id, first, last] of traces) {
      let chunk = chunks[chunks.length - 1]!;
      if (pairs > 0 && pairs + (last - first) / b + 1 > PAIRS_PER_QUERY) {
        chunks.push((chunk = new Map()));
        pairs = 0;
      }
      for (let m = first; m <= last; m += b) {
        let ids = chunk.get(m);
        if (!ids) chunk.set(m, (ids = []));
        ids.push(`'${id}'`);
        pairs++;
      }
    }
    return chunks
      .filter((chunk) => chunk.size > 0)
      .map((chunk) =>
        chunk.size <= BUCKET_TERMS
          ? [...chunk].map(([m, ids]) => `(${key.expr} = toDateTime(${m}) AND TraceId IN (${ids.join(', ')}))`).join(' OR ')
          : `(${key.expr}, TraceId) IN (${[...chunk].flatMap(([m, ids]) => ids.map((id) => `(toDateTime(${m}), ${id})`)).join(', ')})`,
      );
  }

  /**
   * The spans of the traces that `ids` names (a subquery `SELECT TraceId …` or an array
   * parameter), with their time ranges from the lookup table so that the primary key reads only
   * the granules that can hold them. In cluster mode the subqueries run once, on the node that got
   * the query (GLOBAL IN: every table here is Distributed).
   * - Minute key: the traces' (minute, trace id) pairs.
   * - Second key: a trace can span more seconds than a set should hold, so the ids within the hull
   *   of their ranges. Within a second rows are sorted by trace id, so the index still skips most
   *   granules of the hull.
   */
  private spansOf(ids: string): string {
    const inOp = this.schema.cluster ? 'GLOBAL IN' : 'IN';
    const idSet = ids.startsWith('{') ? ids : `(${ids})`;
    const key = this.timeKey;
    if (key.seconds === 1) {
      // End is exclusive: the second after the trace's last span start.
      const hull = `(SELECT tuple(min(Start), max(End)) FROM ${this.t(T.traceIdTs)} WHERE Tenant = {tenant:String} AND TraceId ${inOp} ${idSet})`;
      return `TraceId ${inOp} ${idSet} AND indexHint(${key.expr} >= tupleElement(${hull}, 1) AND ${key.expr} < tupleElement(${hull}, 2))`;
    }
    const ranges = `SELECT TraceId, min(Start) AS s, max(End) AS e FROM ${this.t(T.traceIdTs)} WHERE Tenant = {tenant:String} AND TraceId ${inOp} ${idSet} GROUP BY TraceId`;
    // e is exclusive: the second after the trace's last span start.
    const minutes = "dateDiff('minute', toStartOfMinute(s), toStartOfMinute(greatest(s, e - 1)))";
    return `(${key.expr}, TraceId) ${inOp} (SELECT arrayJoin(arrayMap(i -> toStartOfMinute(s) + toIntervalMinute(i), range(toUInt32(least(${minutes}, ${MAX_TRACE_MINUTES}) + 1)))), TraceId FROM (${ranges}))`;
  }

  /** The conditions of a search and its windows. */
  private async planSearch(query: TraceQuery, ctx: StorageContext): Promise<SearchPlan | undefined> {
    if (!(query.searchDepth > 0)) throw new PermanentError('searchDepth must be > 0');
    const depth = Math.floor(query.searchDepth);
    // Attribute and duration filters match an unknown share of spans: their windows are a share of
    // the range (1/16, then the rest). Loose filters size the first window from the span rate.
    const attrs = [...(query.attributes ?? [])];
    const selective = attrs.length > 0 || query.durationMin !== undefined || query.durationMax !== undefined;
    // With both time bounds given (the query APIs always give them), the rate is not needed
    // (selective search) or a recent estimate of it is enough; otherwise ask the operations table.
    const rateKey = rateKeyOf(ctx.tenant, query.serviceName, query.operationName, query.spanKind);
    let cached = this.rates.get(rateKey);
    const fresh = (c: typeof cached): boolean => c !== undefined && Date.now() - c.at < RATE_TTL_MS;
    const bounded = query.startTimeMin !== undefined && query.startTimeMax !== undefined;
    // A search by service alone asks the rates of all services at once (see primeServiceRates).
    const serviceOnly = !selective && query.serviceName !== undefined && query.operationName === undefined && query.spanKind === undefined;
    const primedAt = this.primed.get(ctx.tenant);
    if (bounded && serviceOnly && !fresh(cached) && !(primedAt !== undefined && Date.now() - primedAt < RATE_TTL_MS)) {
      await this.primeServiceRates(query.startTimeMin!, query.startTimeMax!, ctx);
      cached = this.rates.get(rateKey);
    }
    let lo: bigint;
    let hi: bigint;
    let spans: number;
    if (bounded && (selective || fresh(cached))) {
      lo = query.startTimeMin;
      hi = query.startTimeMax;
      if (lo > hi) return undefined;
      spans = cached ? Number(hi - lo) * cached.perNs : 0;
    } else {
      const bounds = await this.searchBounds(query, ctx);
      if (!bounds) return undefined;
      ({ lo, hi, spans } = bounds);
      if (this.rates.size > 1000) this.rates.clear();
      this.rates.set(rateKey, { at: Date.now(), perNs: rateOf(bounds.total, bounds.span) });
    }
    const { where, params } = spanFilters(query, ctx);
    if (query.durationMin !== undefined) {
      where.push('Duration >= {dmin:UInt64}');
      params['dmin'] = query.durationMin.toString();
    }
    if (query.durationMax !== undefined) {
      where.push('Duration <= {dmax:UInt64}');
      params['dmax'] = query.durationMax.toString();
    }
    const sources = attrs.length > 0 ? await this.keySources(attrs.map(([k]) => k), ctx) : new Map<string, Set<string>>();
    let i = 0;
    for (const [k, v] of attrs) {
      params[`tok${i}`] = `${k}=${v}`;
      params[`k${i}`] = k;
      params[`v${i}`] = v;
      const has = (m: string) => (v === '' ? `(mapContains(${m}, {k${i}:String}) AND ${m}[{k${i}:String}] = '')` : `${m}[{k${i}:String}] = {v${i}:String}`);
      const src = sources.get(k);
      const others: string[] = [];
      if (src?.has('resource')) others.push(has('ResourceAttributes'));
      if (src?.has('scope')) others.push(has('ScopeAttributes'));
      if (src?.has('link')) others.push(`arrayExists(m -> ${has('m')}, \`Links.Attributes\`)`);
      // The bloom filter on span and event attributes skips granules; when the key also occurs in
      // resource/scope/link attributes those are tested on every row of the window.
      const indexed = `(${has('SpanAttributes')} OR arrayExists(m -> ${has('m')}, \`Events.Attributes\`))`;
      where.push(others.length === 0 ? `indexHint(has(${ATTR_TOKENS}, {tok${i}:String})) AND ${indexed}` : `(${indexed} OR ${others.join(' OR ')})`);
      i++;
    }
    // First window: expected to hold ~50 matching spans per wanted trace (loose filters, growing
    // ×4); 1/16 of the range for selective ones, then all the rest — unless the same shape of
    // attribute search (which filters, not their values) recently matched fewer traces than asked:
    // then the whole range at once. Each window query has a fixed cost (~17 ms for an attribute
    // search at 10M spans, against ~57 ms for the whole 3 hours), wasted when the first window
    // cannot hold the answer. Attribute values that find a few traces (ids) are the common case;
    // a duration bound alone matches few spans of one service and many of another, so it is not
    // learnt (learning it made the p95 of a service + minDuration search 307 instead of ~140 ms).
    const shape = attrs.length > 0 ? JSON.stringify([ctx.tenant, query.serviceName !== undefined, query.operationName !== undefined, query.spanKind ?? null, attrs.map(([k]) => k).sort(), query.durationMin !== undefined, query.durationMax !== undefined]) : undefined;
    const learned = shape !== undefined ? this.narrow.get(shape) : undefined;
    const range = hi - lo;
    let width: bigint;
    if (selective) width = learned !== undefined && Date.now() - learned < NARROW_TTL_MS ? range : range / 16n;
    else {
      const want = BigInt(depth * 50);
      width = spans > Number(want) ? (range * want) / BigInt(Math.ceil(spans)) : range;
    }
    if (width < 1_000_000_000n) width = 1_000_000_000n;
    const growth = selective ? 16n : 4n;
    const narrow = this.narrow;
    return {
      depth,
      where: where.join(' AND '),
      params,
      settings: selective ? '' : CACHED,
      learn(found: number) {
        if (shape === undefined) return;
        if (found < depth) {
          if (narrow.size > 1000) narrow.clear();
          narrow.set(shape, Date.now());
        } else narrow.delete(shape);
      },
      *windows() {
        let top = hi;
        let w = width;
        for (let first = true; ; first = false) {
          const bottom = top - w > lo ? top - w : lo;
          yield { bottom, top, first };
          if (bottom <= lo) return;
          top = bottom;
          w *= growth;
        }
      },
    };
  }

  /**
   * The span rates of all the tenant's services with spans up to a minute before `hi`, in one query
   * (skua_operations): a search by another of them then sizes its first window without a query of
   * its own (the first search of each service after a restart took 8–28 ms more). A service last
   * seen earlier is left to `searchBounds`, which also moves its first window to its last spans.
   */
  private async primeServiceRates(lo: bigint, hi: bigint, ctx: StorageContext): Promise<void> {
    const where = ['Tenant = {tenant:String}'];
    const params: Record<string, unknown> = { tenant: ctx.tenant };
    pushDateBounds(where, params, lo, hi);
    const rows = await this.rows<[string, string, string, string]>(
      `SELECT ServiceName, ${OPS_EXTENT} FROM ${this.t(T.operations)} WHERE ${where.join(' AND ')} GROUP BY ServiceName`,
      params,
      'find traces',
    );
    const at = Date.now();
    if (this.primed.size > 1000) this.primed.clear();
    this.primed.set(ctx.tenant, at);
    if (this.rates.size + rows.length > 1000) this.rates.clear();
    for (const [service, first, last, total] of rows) {
      if (BigInt(last) < hi - 60_000_000_000n) continue;
      this.rates.set(rateKeyOf(ctx.tenant, service, undefined, undefined), { at, perNs: rateOf(Number(total), BigInt(last) - BigInt(first)) });
    }
  }

  /**
   * For each key: which non-indexed attributes (resource, scope, link) it occurs in. Cached for a
   * few seconds; this process's writers clear the cache when they record a new key.
   */
  private async keySources(keys: string[], ctx: StorageContext): Promise<Map<string, Set<string>>> {
    const cacheKey = JSON.stringify([ctx.tenant, [...keys].sort()]);
    const hit = this.keyCache.get(cacheKey);
    if (hit && Date.now() - hit.at < KEYS_TTL_MS) return hit.sources;
    const out = new Map<string, Set<string>>();
    const rows = await this.rows<[string, string]>(
      `SELECT DISTINCT Key, Source FROM ${this.t(T.attributeKeys)} WHERE Tenant = {tenant:String} AND Key IN {keys:Array(String)}`,
      { tenant: ctx.tenant, keys },
      'find traces',
    );
    for (const [k, src] of rows) {
      let set = out.get(k);
      if (!set) out.set(k, (set = new Set()));
      set.add(src);
    }
    if (this.keyCache.size > 1000) this.keyCache.clear();
    this.keyCache.set(cacheKey, { at: Date.now(), sources: out });
    return out;
  }

  /** The time range a search must cover: the query's, narrowed to where matching spans exist. */
  private async searchBounds(
    query: TraceQuery,
    ctx: StorageContext,
  ): Promise<{ lo: bigint; hi: bigint; spans: number; total: number; span: bigint } | undefined> {
    const { where, params } = spanFilters(query, ctx);
    pushDateBounds(where, params, query.startTimeMin, query.startTimeMax);
    const [row] = await this.rows<[string, string, string]>(
      `SELECT ${OPS_EXTENT} FROM ${this.t(T.operations)} WHERE ${where.join(' AND ')} HAVING count() > 0`,
      params,
      'find traces',
    );
    if (!row) return undefined;
    let lo = BigInt(row[0]);
    let hi = BigInt(row[1]);
    const total = Number(row[2]);
    const span = hi - lo;
    if (query.startTimeMin !== undefined && query.startTimeMin > lo) lo = query.startTimeMin;
    if (query.startTimeMax !== undefined && query.startTimeMax < hi) hi = query.startTimeMax;
    if (lo > hi) return undefined;
    // Spans in [lo, hi], assuming a steady rate over the data's own extent.
    const spans = span > 0n ? total * (Number(hi - lo) / Number(span)) : total;
    return { lo, hi, spans, total, span };
  }

  async getDependencies(query: { start: UnixNanos; end: UnixNanos }, ctx: StorageContext): Promise<DependencyLink[]> {
    // Child spans that started in the window, joined with their parent span wherever it is in the
    // trace (all spans of those traces, found by spansOf), on a 64-bit hash of
    // (trace id, span id): a small join key.
    const children = `SELECT TraceId, cityHash64(TraceId, ParentSpanId) AS k, ServiceName FROM ${this.t(T.spans)}
             WHERE Tenant = {tenant:String} AND ParentSpanId != '' AND ${timeCond(this.timeKey, 'lo', 'hi')}`;
    const rows = await this.rows<[string, string, string]>(
      `SELECT p.ServiceName AS parent, c.ServiceName AS child, toString(count()) AS calls
       FROM (${children}) AS c
       ${this.schema.cluster ? 'GLOBAL ' : ''}INNER JOIN (SELECT cityHash64(TraceId, SpanId) AS k, ServiceName FROM ${this.t(T.spans)}
             WHERE Tenant = {tenant:String} AND ${this.spansOf(`SELECT DISTINCT TraceId FROM (${children})`)}) AS p
       ON c.k = p.k
       WHERE p.ServiceName != c.ServiceName
       GROUP BY parent, child ORDER BY parent, child
       SETTINGS join_algorithm = 'auto', max_bytes_in_join = 1073741824`,
      { tenant: ctx.tenant, lo: nsParam(query.start), hi: nsParam(query.end) },
      'get dependencies',
    );
    return rows.map(([parent, child, n]) => ({ parent, child, callCount: Number(n) }));
  }

  /** The engine's own client (tests and the benchmark). */
  get clickhouse(): ClickHouseClient {
    return this.client();
  }

  /** The clients of queries (tests; see Connected.readers). */
  get readers(): readonly ClickHouseClient[] {
    if (!this.conn) throw new Error(`clickhouse backend "${this.o.name}" is not started`);
    return this.conn.readers;
  }

  get database(): string {
    return this.schema.database;
  }
}

/**
 * Spans that started in [lo, hi] (`hi` exclusive when `open`). The primary key (Tenant, time
 * bucket, TraceId, …) prunes by buckets only when they are written out: ClickHouse does not
 * derive them from a Timestamp range (an 11-minute window over merged parts selected 1,192
 * granules instead of 295 with the minute key). In `indexHint` they serve the index and are not
 * tested on every row (the all-filters search ~3–6 ms faster than with them as plain conditions).
 */
function timeCond(key: TimeKey, lo: string, hi: string, open = false): string {
  const l = `fromUnixTimestamp64Nano({${lo}:Int64})`;
  const h = `fromUnixTimestamp64Nano({${hi}:Int64})`;
  return `indexHint(${key.expr} >= ${key.bucket(l)} AND ${key.expr} <= ${key.bucket(h)}) AND Timestamp >= ${l} AND Timestamp ${open ? '<' : '<='} ${h}`;
}

function kindName(k: string): SpanKindName {
  const i = (KIND_STRINGS as readonly string[]).indexOf(k);
  return spanKindNames[i < 0 ? 0 : i]!;
}

/** Nanoseconds as an Int64 parameter (clamped to DateTime64's range). */
function nsParam(ns: bigint): string {
  if (ns < 0n) return '0';
  if (ns > 9_223_372_036_854_775_807n) return '9223372036854775807';
  return ns.toString();
}

interface SearchWindow {
  readonly bottom: bigint;
  readonly top: bigint;
  /** The first window includes `top`; later ones stop just before it. */
  readonly first: boolean;
}

interface SearchPlan {
  readonly depth: number;
  /** Conditions on one span (Tenant included). */
  readonly where: string;
  readonly params: Record<string, unknown>;
  /** The SETTINGS clause of the search's id queries and guessed span reads (see CACHED). */
  readonly settings: string;
  windows(): Iterable<SearchWindow>;
  /** After a search that went through its windows: how many traces it found. */
  learn(found: number): void;
}

/** A row of a window's trace query (windowTraces): id, first and last start (ms) of its matching spans. */
type WindowRow = readonly [string, string, string];

/** A trace id as Skua writes it: safe to write into SQL as a literal. */
const HEX_ID = /^[0-9a-f]{32}$/;

/**
 * The first and last time bucket (seconds, `b` seconds each) of a trace range [start, end) in
 * seconds. End is exclusive (the last span's second + 1): a trace ending at a bucket's last second
 * has no spans in the next bucket, and a pair for it would cost a granule read.
 */
function bucketsOf(start: number, end: number, b: number): [number, number] {
  const first = Math.floor(start / b) * b;
  return [first, Math.max(first, Math.floor((end - 1) / b) * b)];
}

/** The time bucket (seconds, `b` seconds each) of a time in ms. */
function bucketOfMs(ms: number, b: number): number {
  return Math.floor(Math.floor(ms / 1000) / b) * b;
}

/** The rows (of one RowDecoder) as one Traces per trace id, in the order of first appearance. */
function toTraces(rows: readonly DecodedRow[]): Map<string, Traces> {
  const byTrace = new Map<string, DecodedRow[]>();
  for (const d of rows) {
    let list = byTrace.get(d.span.traceId);
    if (!list) byTrace.set(d.span.traceId, (list = []));
    list.push(d);
  }
  const out = new Map<string, Traces>();
  for (const [id, list] of byTrace) out.set(id, Traces.fromResourceSpans(groupRows(list)));
  return out;
}

/** What skua_operations rows say of their spans: first and last start (ns) and count, as strings. */
const OPS_EXTENT = 'toString(toUnixTimestamp64Nano(min(FirstSeen))), toString(toUnixTimestamp64Nano(max(LastSeen))), toString(sum(Spans))';

/** skua_operations conditions: the days of [min, max] (either may be open). */
function pushDateBounds(where: string[], params: Record<string, unknown>, min: bigint | undefined, max: bigint | undefined): void {
  if (min !== undefined) {
    where.push('Date >= toDate(fromUnixTimestamp64Nano({smin:Int64}))');
    params['smin'] = nsParam(min);
  }
  if (max !== undefined) {
    where.push('Date <= toDate(fromUnixTimestamp64Nano({smax:Int64}))');
    params['smax'] = nsParam(max);
  }
}

/** Spans per nanosecond of `total` spans over `span` ns (0 when they share one instant). */
function rateOf(total: number, span: bigint): number {
  return span > 0n ? total / Number(span) : 0;
}

/** The key of a search's span-rate estimate. */
function rateKeyOf(tenant: string, service: string | undefined, operation: string | undefined, kind: SpanKindName | undefined): string {
  return JSON.stringify([tenant, service ?? null, operation ?? null, kind ?? null]);
}

/** The tenant, service, operation and kind conditions of a search, shared by its queries. */
function spanFilters(query: TraceQuery, ctx: StorageContext): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = ['Tenant = {tenant:String}'];
  const params: Record<string, unknown> = { tenant: ctx.tenant };
  if (query.serviceName !== undefined) {
    where.push('ServiceName = {service:String}');
    params['service'] = query.serviceName;
  }
  if (query.operationName !== undefined) {
    where.push('SpanName = {operation:String}');
    params['operation'] = query.operationName;
  }
  if (query.spanKind !== undefined) {
    where.push('SpanKind = {kind:String}');
    params['kind'] = KIND_BY_NAME[query.spanKind];
  }
  return { where, params };
}
