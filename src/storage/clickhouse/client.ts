/**
 * One `@clickhouse/client` for both modes: over HTTP(S) to a server, or with chDB (the in-process
 * engine) plugged in as its connection. Everything above this file speaks the client's API only.
 *
 * chDB binds one data directory per process. Several backends may share it (each with its own
 * database); asking for a second directory while one is open is refused with a clear message.
 * `chdb` is imported only here, lazily, when an embedded backend starts (it costs ~250 MB RSS).
 */
import { readFileSync, readdirSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { join, resolve } from 'node:path';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { PermanentError, RetryableError } from '../../component/errors.js';
import type { Config } from './config.js';
import { durationMs } from '../../confmap/schema.js';

export interface Connected {
  /** Writes and schema changes. */
  readonly client: ClickHouseClient;
  /**
   * Clients for queries. Embedded: chDB runs one query at a time per connection, so queries get
   * connections of their own: a search does not wait behind an INSERT (or an INSERT behind a long
   * query), and two reads of one search can run at once (see also inlining). A server: the one
   * client, whose HTTP connections run queries in parallel.
   */
  readonly readers: readonly ClickHouseClient[];
  /**
   * Connections for the span INSERTs (the first is `client`). Embedded: two, since chDB runs one
   * statement at a time per connection and an INSERT's parsing and part writing is mostly one
   * thread; a server: `client` (its HTTP connections already run INSERTs in parallel).
   */
  readonly inserters: readonly ClickHouseClient[];
  /** Where the data lives, for messages: the URL (without credentials) or the embedded path. */
  readonly where: string;
  readonly embedded: boolean;
  /**
   * Embedded only: a directory the engine can read files from. INSERTs hand it their rows as a
   * file (read by `file()`), which costs the engine less than parsing them out of the statement.
   */
  readonly spoolDir?: string;
  close(): Promise<void>;
}

/** The spool directory of an embedded data directory. */
export function spoolDirOf(abs: string): string {
  return join(abs, 'skua_spool');
}

/**
 * Embedded: the engine's cache of decompressed blocks, for reads with `use_uncompressed_cache`
 * (a search's reads: see CACHED in clickhouse.ts). ClickHouse's own default is 0: no cache.
 */
export const DEFAULT_UNCOMPRESSED_CACHE_SIZE = 256 * 1024 * 1024;

/**
 * Embedded: the engine's compression of columns whose codec is `Default` (the span table's
 * attribute maps, schema version 6), by the size of the part being written: an INSERT's part, and
 * a merge of parts smaller than `BIG_PART_BYTES` in all (compressed), get ZSTD(FRESH_LEVEL); bigger
 * merges ZSTD(9), as these columns had before. (ClickHouse gives an INSERT's part the codec of the
 * smallest case whatever its size.) SpanAttributes of 100,000 spans: ZSTD(3) 0.47 µs per span for
 * 18.7 bytes, ZSTD(7) 1.36 µs for 13.9, ZSTD(9) 1.7–2.0 µs for 13.5. With INSERTs of thousands of
 * rows, merged within seconds, ZSTD(3) was right (level 3 before 2026-12-07). With the write-ahead
 * spool's INSERTs of ~130,000 rows, the newest parts wait for a few dozen more before their
 * merge: up to ~3.5M spans of the store (a third of the benchmark's) in parts as written, 5.2
 * bytes per span larger at ZSTD(3), 0.4 at ZSTD(7). ClickHouse's `<compression>` server setting,
 * given to the engine in a configuration file (`ENGINE_CONFIG_FILE`).
 */
export const FRESH_LEVEL = 7;
export const BIG_PART_BYTES = 4 * 1024 * 1024;
export const ENGINE_CONFIG_FILE = 'skua-engine.xml';

export function engineConfigXml(bigPartBytes: number): string {
  const when = (min: number, level: number): string =>
    `    <case><min_part_size>${min}</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>zstd</method><level>${level}</level></case>\n`;
  return `<clickhouse>\n  <compression>\n${when(0, FRESH_LEVEL)}${when(bigPartBytes, 9)}  </compression>\n</clickhouse>\n`;
}

/** Embedded: connections for queries (see Connected.readers); a search uses up to two at once. */
const EMBEDDED_READERS = 2;

/**
 * Embedded: the `SET` statement each connection starts with: `settings` (what a server's client
 * sends with every statement) and no sampling profilers. chDB turns a statement's settings into
 * `SET` statements run before it (~0.2 ms each), and a `SET` stays on its connection; the query
 * profilers start timers for every query's threads (~0.35 ms per query) for a `system.trace_log`
 * that the embedded engine does not keep.
 */
function sessionSettings(settings: ClickHouseSettings): string {
  const all: Record<string, unknown> = { ...settings, query_profiler_real_time_period_ns: 0, query_profiler_cpu_time_period_ns: 0 };
  return `SET ${Object.entries(all)
    .map(([k, v]) => `${k} = ${typeof v === 'string' ? sqlString(v) : Number(v)}`)
    .join(', ')}`;
}

/** A ClickHouse string literal (see inlineParams). */
function sqlString(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/**
 * `sql` with its `{name:Type}` parameters written in as literals (String, Array(String) and integer
 * types, the ones Skua's statements use; anything else is refused). For the embedded engine, which
 * runs statements with bound parameters one at a time in the process (see inlining).
 */
export function inlineParams(sql: string, params: Readonly<Record<string, unknown>>): string {
  return sql.replace(/\{(\w+):([A-Za-z0-9()]+)\}/g, (_, name: string, type: string) => {
    if (!Object.hasOwn(params, name)) throw new Error(`no value for query parameter ${name}`);
    const v = params[name];
    if (type === 'String') return sqlString(String(v));
    if (type === 'Array(String)' && Array.isArray(v)) return `[${v.map((x) => sqlString(String(x))).join(', ')}]`;
    if (/^U?Int(8|16|32|64)$/.test(type) && /^-?\d+$/.test(String(v))) return String(v);
    throw new Error(`query parameter ${name}: cannot write ${JSON.stringify(v)} as ${type}`);
  });
}

type Statement = { query: string; query_params?: Record<string, unknown> };

/**
 * A chDB connection whose statements with parameters have them written into the SQL
 * (inlineParams): chDB runs statements with bound parameters one at a time in the whole process, so
 * they could not overlap across connections (a search would wait behind a long query with
 * parameters on another connection, an INSERT of attribute keys behind a search); binding also
 * cost ~0.45 ms more per query. Statements without parameters (the span INSERTs, with their rows)
 * pass as they are.
 */
function inlining<C extends object>(conn: C): C {
  const inline = <P extends Statement>(p: P): P =>
    p.query_params && Object.keys(p.query_params).length > 0 ? { ...p, query: inlineParams(p.query, p.query_params), query_params: {} } : p;
  return new Proxy(conn, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      if (prop === 'query' || prop === 'exec' || prop === 'command') return (p: Statement) => (v as (p: Statement) => unknown).call(target, inline(p));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

// ------------------------------------------------------------------------------------------------
// Embedded (chDB): one data directory per process, shared by reference count
// ------------------------------------------------------------------------------------------------

interface EmbeddedSlot {
  path: string;
  refs: number;
  /** The engine's server settings, given by the backend that opened the directory. */
  cacheSize: number;
  bigPartBytes: number;
  /**
   * The first connection to the directory: it started the engine with its server settings
   * (`connectionArgs`; chdb/connection cannot pass them) and is closed with the last user.
   */
  boot: { close(): void };
}
let slot: EmbeddedSlot | undefined;
/** Set while the last user of a directory is closing: the engine must drain before another opens. */
let draining: Promise<void> | undefined;

async function connectEmbedded(opts: NonNullable<Config['embedded']>, settings: ClickHouseSettings): Promise<Connected> {
  const abs = resolve(opts.path);
  const cacheSize = opts.uncompressed_cache_size ?? DEFAULT_UNCOMPRESSED_CACHE_SIZE;
  const bigPartBytes = opts.compression_min_part_size ?? BIG_PART_BYTES;
  const refuse = (open: EmbeddedSlot): PermanentError | undefined =>
    open.path !== abs
      ? new PermanentError(
          `the embedded ClickHouse engine (chDB) holds one data directory per process: "${open.path}" is open, so "${abs}" cannot be; ` +
            'give every embedded backend the same path (they can differ by database)',
        )
      : open.cacheSize !== cacheSize
        ? new PermanentError(
            `the embedded ClickHouse engine (chDB) is one per process and already runs with uncompressed_cache_size ${open.cacheSize}: ` +
              `give every embedded backend the same value (this one asks for ${cacheSize})`,
          )
        : open.bigPartBytes !== bigPartBytes
          ? new PermanentError(
              `the embedded ClickHouse engine (chDB) is one per process and already runs with compression_min_part_size ${open.bigPartBytes}: ` +
                `give every embedded backend the same value (this one asks for ${bigPartBytes})`,
            )
          : undefined;
  const refused = slot && refuse(slot);
  if (refused) throw refused;
  if (draining) await draining;
  try {
    mkdirSync(abs, { recursive: true });
  } catch (err) {
    throw new PermanentError(`cannot create the embedded ClickHouse data directory "${abs}": ${(err as Error).message}`, { cause: err });
  }
  const [{ createClient }, { createChdbConnection }, { Session }] = await Promise.all([
    import('@clickhouse/client'),
    import('chdb/connection'),
    import('chdb') as Promise<unknown> as Promise<{ Session: new (path: string, o: { connectionArgs: string[] }) => { close(): void } }>,
  ]);
  // Re-check after the awaits: another backend may have taken the slot meanwhile.
  if (slot && refuse(slot)) return connectEmbedded(opts, settings);
  const spoolDir = spoolDirOf(abs);
  const cannotOpen = (err: unknown): PermanentError =>
    new PermanentError(`cannot open the embedded ClickHouse data directory "${abs}": ${(err as Error).message}`, { cause: err });
  let connection;
  if (slot) {
    try {
      connection = createChdbConnection({ path: abs });
    } catch (err) {
      throw cannotOpen(err);
    }
    slot.refs++;
  } else {
    // The first connection starts the engine, with the server settings that are not query
    // settings: the cache of decompressed blocks that reads with use_uncompressed_cache fill, and
    // the compression of `Default` columns by part size (engineConfigXml).
    let boot: { close(): void } | undefined;
    const configFile = join(abs, ENGINE_CONFIG_FILE);
    try {
      writeFileSync(configFile, engineConfigXml(bigPartBytes));
    } catch (err) {
      throw new PermanentError(`cannot write "${configFile}" in the embedded ClickHouse data directory: ${(err as Error).message}`, { cause: err });
    }
    try {
      boot = new Session(abs, { connectionArgs: [`--config-file=${configFile}`, `--uncompressed_cache_size=${cacheSize}`] });
      connection = createChdbConnection({ path: abs });
    } catch (err) {
      boot?.close();
      throw cannotOpen(err);
    }
    slot = { path: abs, refs: 1, cacheSize, bigPartBytes, boot };
    // Files of INSERTs that a crash interrupted: their rows were never acknowledged. The
    // write-ahead spool's segments (`wal-*`) hold acknowledged rows: the store replays them.
    try {
      mkdirSync(spoolDir, { recursive: true });
      for (const f of readdirSync(spoolDir)) if (!f.startsWith('wal-') && !f.startsWith('failed-')) rmSync(join(spoolDir, f), { recursive: true, force: true });
    } catch (err) {
      await closeAll([connection]).catch(() => undefined);
      throw new PermanentError(`cannot create "${spoolDir}" in the embedded ClickHouse data directory: ${(err as Error).message}`, { cause: err });
    }
  }
  // chdb types its connection against its own copy of @clickhouse/client-common: same shape. The
  // settings are set once per connection (sessionSettings), not sent with every statement.
  const clientOf = (conn: object): ClickHouseClient => createClient({ connection: inlining(conn) as never, log: QUIET });
  const client = clientOf(connection);
  const readers: ClickHouseClient[] = [];
  const inserter = clientOf(createChdbConnection({ path: abs }));
  try {
    for (let i = 0; i < EMBEDDED_READERS; i++) readers.push(clientOf(createChdbConnection({ path: abs })));
    const set = sessionSettings(settings);
    await Promise.all([client, inserter, ...readers].map((c) => c.command({ query: set })));
  } catch (err) {
    await closeAll([client, inserter, ...readers]).catch(() => undefined);
    throw cannotOpen(err);
  }
  let closed = false;
  return {
    client,
    readers,
    inserters: [client, inserter],
    where: abs,
    embedded: true,
    // file() treats * ? { } as globs: such paths keep the rows in the statement.
    ...(/[*?{}'\\]/.test(spoolDir) ? {} : { spoolDir }),
    async close() {
      if (closed) return;
      closed = true;
      await closeAll([...readers, inserter, client]);
    },
  };
}

/**
 * Closes the clients of one embedded data directory (a failure to close one does not keep the
 * others open), then gives the directory up: the last user waits until the engine has drained.
 */
async function closeAll(clients: readonly { close(): Promise<void> }[]): Promise<void> {
  try {
    const failed = (await Promise.allSettled(clients.map((c) => c.close()))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    if (slot && --slot.refs === 0) {
      const boot = slot.boot;
      slot = undefined;
      boot.close();
      draining = (async () => {
        const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void> };
        await chdb.drainPending?.();
      })().finally(() => {
        draining = undefined;
      });
      await draining;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Server (HTTP/HTTPS)
// ------------------------------------------------------------------------------------------------

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new PermanentError(`cannot read the ClickHouse ${what} "${file}": ${(err as Error).message}`, { cause: err });
  }
}

/** The URL without credentials, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

async function connectServer(cfg: Config, settings: ClickHouseSettings): Promise<Connected> {
  const { createClient } = await import('@clickhouse/client');
  const url = cfg.url!;
  const tls = cfg.tls;
  let tlsOpt: { ca_cert: Buffer; cert?: Buffer; key?: Buffer } | undefined;
  if (tls?.ca_file) {
    tlsOpt = { ca_cert: readPem(tls.ca_file, 'CA file') };
    if (tls.cert_file && tls.key_file) {
      tlsOpt.cert = readPem(tls.cert_file, 'certificate file');
      tlsOpt.key = readPem(tls.key_file, 'key file');
    }
  }
  let agent: HttpsAgent | undefined;
  if (tls?.insecure_skip_verify || (tls?.cert_file && !tls.ca_file)) {
    agent = new HttpsAgent({
      keepAlive: true,
      rejectUnauthorized: !tls.insecure_skip_verify,
      ...(tls.cert_file && tls.key_file ? { cert: readPem(tls.cert_file, 'certificate file'), key: readPem(tls.key_file, 'key file') } : {}),
    });
  }
  const client = createClient({
    url,
    username: cfg.username ?? 'default',
    password: cfg.password ?? '',
    request_timeout: durationMs(cfg.timeout),
    clickhouse_settings: settings,
    application: 'skua',
    log: QUIET,
    ...(agent ? { http_agent: agent, set_basic_auth_header: true } : tlsOpt ? { tls: tlsOpt as never } : {}),
  });
  return {
    client,
    readers: [client],
    inserters: [client],
    where: safeUrl(url),
    embedded: false,
    async close() {
      await client.close();
      agent?.destroy();
    },
  };
}

/** The client's own console logging is off: the store reports failures through its logger. */
const QUIET = { level: 127 as never }; // ClickHouseLogLevel.OFF

/** Settings every query carries (64-bit integers as JSON strings). */
export const BASE_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 1,
};

export async function connect(cfg: Config): Promise<Connected> {
  return cfg.embedded ? connectEmbedded(cfg.embedded, BASE_SETTINGS) : connectServer(cfg, BASE_SETTINGS);
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/** ClickHouse error codes worth retrying (overload, network, replicas, timeouts). */
const RETRYABLE_CODES = new Set([
  3, // UNEXPECTED_END_OF_FILE
  32, // ATTEMPT_TO_READ_AFTER_EOF
  60, // UNKNOWN_TABLE (dropped under us: the data is not at fault)
  81, // UNKNOWN_DATABASE
  159, // TIMEOUT_EXCEEDED
  164, // READONLY (replica in read-only mode, e.g. lost Keeper session)
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  243, // NOT_ENOUGH_SPACE
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED
  285, // TOO_FEW_LIVE_REPLICAS
  286, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  999, // KEEPER_EXCEPTION
  1000, // POCO_EXCEPTION
]);

/** Credentials / permissions: the config must change; on the data path still retryable. */
const AUTH_CODES = new Set([192, 193, 194, 291, 497, 516]); // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, DATABASE_ACCESS_DENIED, ACCESS_DENIED, AUTHENTICATION_FAILED

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

interface ErrorInfo {
  /** ClickHouse error code, when the server answered with one. */
  chCode?: number;
  /** A network failure (no answer). */
  network: boolean;
  auth: boolean;
  /** Worth retrying: nothing says the data is at fault. */
  retryable: boolean;
  message: string;
}

export function classify(err: unknown): ErrorInfo {
  const e = err as { code?: unknown; type?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  const message = err instanceof Error ? err.message : String(err);
  const code = typeof e?.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : undefined;
  if (code !== undefined) {
    const auth = AUTH_CODES.has(code);
    return { chCode: code, network: false, auth, retryable: RETRYABLE_CODES.has(code) || auth, message };
  }
  // Network errors: Node's errno codes (possibly inside an AggregateError) or the client's timeout.
  const codes: string[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (!x || depth > 4) return;
    const y = x as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof y.code === 'string') codes.push(y.code);
    if (Array.isArray(y.errors)) for (const z of y.errors) walk(z, depth + 1);
    walk(y.cause, depth + 1);
  };
  walk(err, 0);
  const network = codes.some((c) => NET_CODES.has(c)) || /timeout|socket hang up|ECONNREFUSED|ECONNRESET/i.test(message);
  // No ClickHouse error code: the transport or something in front of ClickHouse (a proxy's 502 or
  // 503, a wrong port) answered. The data is not at fault: retryable.
  return { network, auth: false, retryable: true, message: message || codes.join(', ') };
}

/** A message that says what failed and where, for errors at start and on the data path. */
export function describe(err: unknown, where: string, what: string): string {
  const info = classify(err);
  if (info.auth) return `${what}: ClickHouse at ${where} refused the credentials (${firstLine(info.message)}); check username and password`;
  if (info.network) return `${what}: ClickHouse at ${where} is unreachable (${firstLine(info.message)})`;
  if (info.chCode === undefined) return `${what}: ClickHouse at ${where} answered: ${firstLine(stripHtml(info.message))}`;
  return `${what}: ClickHouse at ${where}: ${firstLine(info.message)}`;
}

function stripHtml(s: string): string {
  return /<[a-z!][^>]*>/i.test(s) ? s.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() : s;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return line.length > 500 ? line.slice(0, 500) + '…' : line;
}

/** The typed error the storage contract asks for. */
export function toStorageError(err: unknown, where: string, what: string, retryAfterMs = 1000): Error {
  if (err instanceof RetryableError || err instanceof PermanentError) return err;
  const info = classify(err);
  const msg = describe(err, where, what);
  return info.retryable ? new RetryableError(msg, { cause: err, retryAfterMs }) : new PermanentError(msg, { cause: err });
}
