import { z } from 'zod';
import { duration, durationMs } from '../../confmap/schema.js';

/**
 * `jaeger_storage.backends.NAME.clickhouse`: the embedded engine (chDB, data on local disk) or a
 * ClickHouse server / cluster over HTTP(S). Exactly one of `embedded` and `url`.
 */
const tlsSchema = z
  .object({
    /** PEM file of the CA that signed the server certificate (default: the system CAs). */
    ca_file: z.string().min(1).optional(),
    /** Client certificate and key (PEM) for mutual TLS; both or neither. */
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    /** Accept any server certificate (testing only). */
    insecure_skip_verify: z.boolean().optional(),
  })
  .strict();

const writeSchema = z
  .object({
    /**
     * Rows per INSERT: larger batches make fewer parts; bounded so that one insert stays short.
     * Default: 200,000 with the write-ahead spool, 50,000 without (see clickhouse.ts).
     */
    batch_max_rows: z.number().int().min(1).max(1_000_000).optional(),
    /** Bytes of encoded rows (RowBinary) per INSERT. */
    batch_max_bytes: z.number().int().min(1024),
    /** How long the first rows of a batch wait for more before the batch is inserted. */
    batch_timeout: duration(),
    /** Rows accepted but not yet inserted, across all callers; beyond it writes are refused (retryable). */
    max_pending_rows: z.number().int().min(1),
    /** INSERTs in flight at once. */
    concurrency: z.number().int().min(1).max(16),
    /** How long a failing batch is retried (same deduplication token) before its callers get a retryable error. */
    retry_max_elapsed: duration(),
    /**
     * fsync every inserted part before the INSERT returns (ClickHouse's `fsync_after_insert` and
     * `fsync_part_directory` on Skua's tables). Off: an acknowledged export survives a crash of
     * Skua (`kill -9`) but not of the machine; on: it survives power loss too, at a latency cost.
     */
    fsync: z.boolean(),
    /**
     * Embedded engine: acknowledge a write once its rows are in the write-ahead spool
     * (`<path>/skua_spool/wal-*`, replayed at the next start) instead of once they are inserted,
     * so that INSERTs grow to `batch_max_rows` whatever the senders' concurrency (fewer parts, less
     * merging). Default: on for the embedded engine; a server has no local spool (false).
     */
    wal: z.boolean().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    embedded: z
      .object({
        /** Data directory of the embedded engine (created when missing). One per process. */
        path: z.string().min(1),
        /**
         * Bytes of decompressed column blocks the engine keeps for short reads (ClickHouse's server
         * setting; default 256 MiB, 0 turns the cache off). One engine per process: every embedded
         * backend must give the same value.
         */
        uncompressed_cache_size: z.number().int().min(0).optional(),
        /**
         * The span table's attribute maps are compressed with ZSTD(9) in parts merged from at least
         * this many (compressed) bytes, with ZSTD(7) in INSERTs and smaller merges, which the next
         * merge rewrites soon (default 4 MiB; see BIG_PART_BYTES). One engine per process: every
         * embedded backend must give the same value.
         */
        compression_min_part_size: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    /** `http://host:8123` or `https://host:8443`. */
    url: z.string().min(1).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: tlsSchema.optional(),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a database name of letters, digits and underscores'),
    /** Create (and upgrade) the schema at start. When false, the schema must exist at the current version. */
    create_schema: z.boolean(),
    /** Retention of spans: a Go duration (`168h`); `0s` keeps data forever. Whole parts are dropped. */
    ttl: duration(),
    /** A cluster name from the server's `remote_servers`: ON CLUSTER DDL, Replicated + Distributed tables. */
    cluster: z.string().regex(/^([A-Za-z_][A-Za-z0-9_.-]*)?$/, 'expected a cluster name'),
    /** Request timeout (server mode). */
    timeout: duration({ min: 1 }),
    write: writeSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.embedded === undefined) === (c.url === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'exactly one of "embedded" (in-process engine with a data path) or "url" (a ClickHouse server) must be set',
        path: [],
      });
    }
    if (c.url !== undefined) {
      let u: URL | undefined;
      try {
        u = new URL(c.url);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
        ctx.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL, e.g. http://clickhouse:8123', path: ['url'] });
      }
    }
    if (c.embedded !== undefined) {
      for (const k of ['username', 'password', 'tls'] as const) {
        if (c[k] !== undefined) ctx.addIssue({ code: 'custom', message: `"${k}" applies to a server ("url"), not to the embedded engine`, path: [k] });
      }
      if (c.cluster !== '') ctx.addIssue({ code: 'custom', message: 'a cluster needs ClickHouse servers ("url"), not the embedded engine', path: ['cluster'] });
    } else if (c.write.wal === true) {
      ctx.addIssue({ code: 'custom', message: 'the write-ahead spool needs the embedded engine ("embedded"); with a server a write is acknowledged once inserted', path: ['write', 'wal'] });
    }
    if (c.tls && (c.tls.cert_file === undefined) !== (c.tls.key_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'cert_file and key_file go together', path: ['tls'] });
    }
  });

export type Config = z.infer<typeof configSchema>;

export function createDefaultConfig(): Config {
  return {
    database: 'skua',
    create_schema: true,
    ttl: '168h',
    cluster: '',
    timeout: '30s',
    write: {
      batch_max_bytes: 32 * 1024 * 1024,
      batch_timeout: '100ms',
      max_pending_rows: 1_000_000,
      concurrency: 2,
      retry_max_elapsed: '10s',
      fsync: false,
    },
  };
}

/** The TTL in whole seconds (0 = keep forever). */
export function ttlSeconds(cfg: Pick<Config, 'ttl'>): number {
  return Math.max(0, Math.round(durationMs(cfg.ttl) / 1000));
}
