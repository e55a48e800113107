import { compareOperations, spanKindName, spanKindNames } from '../api.js';
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
import type { SelfMetrics } from '../../telemetry/metrics.js';
import { Traces } from '../../pdata/traces.js';
import { ProtoTraces, hashBytes, hexToKey, keyToHex, type SpanTable } from '../../pdata/proto-view.js';
import { toProtoParts } from '../../pdata/proto-encode.js';
import type { TraceId } from '../../pdata/model.js';

/**
 * The in-memory backend: per tenant, a ring of at most `maxTraces` traces (oldest trace evicted
 * first; spans arriving later join their trace while it is held).
 *
 * Representation (docs/adr/0002-pdata-representation.md): the store keeps the decoded requests'
 * `SpanTable`s (the request bytes plus one typed array of per-span fields) and, per trace, the
 * list of (table, rows) segments that hold its spans. A table stays alive while any trace still
 * points into it (the garbage collector does the reference counting). Searches run over the typed
 * arrays (service, name, kind, times) and decode attributes only for spans that pass those; the
 * object model is built only for the traces a reader returns.
 */
export interface MemoryStoreOptions {
  maxTraces: number;
  /** For the `evicted` / `invalid` dropped-span counters. */
  metrics?: SelfMetrics;
  /** Component label of those counters. */
  component?: string;
}

interface Segment {
  readonly t: SpanTable;
  readonly rows: number[];
}

/** A trace: its first segment inline (most traces arrive in one request), further ones in `more`. */
class TraceEntry implements Segment {
  readonly rows: number[] = [];
  more: Segment[] | null = null;
  spanCount = 0;
  constructor(
    readonly key: string,
    readonly t: SpanTable,
  ) {}

  segments(): readonly Segment[] {
    return this.more === null ? [this] : [this, ...this.more];
  }

  /** The segment new rows of `t` go to. */
  segmentFor(t: SpanTable): Segment {
    const more = this.more;
    if (more === null) {
      if (this.t === t) return this;
      const s = { t, rows: [] };
      this.more = [s];
      return s;
    }
    const last = more[more.length - 1]!;
    if (last.t === t) return last;
    const s = { t, rows: [] };
    more.push(s);
    return s;
  }
}

interface OpEntry {
  /** The name's UTF-8 bytes, to recognise it in later requests without decoding. */
  readonly bytes: Uint8Array;
  readonly name: string;
  /** Bit k set = seen with SpanKind k. */
  kinds: number;
}

class TenantData {
  readonly traces = new Map<string, TraceEntry>();
  /** Traces in arrival order: a ring once it holds maxTraces; `head` is the oldest. */
  readonly ring: TraceEntry[] = [];
  head = 0;
  /** service → hash of the span name's bytes → operations with that hash. */
  readonly ops = new Map<string, Map<number, OpEntry[]>>();
}

const CHUNK = 64;

export class MemoryStore implements TraceStore {
  private readonly maxTraces: number;
  private tenants = new Map<string, TenantData>();

  constructor(private readonly opts: MemoryStoreOptions) {
    if (!(opts.maxTraces > 0)) throw new Error('memory store: max_traces must be > 0');
    this.maxTraces = Math.floor(opts.maxTraces);
  }

  capabilities(): Capabilities {
    return { findTraceIds: true, dependencies: true, durable: false };
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.tenants = new Map();
  }

  private tenant(ctx: StorageContext, create: true): TenantData;
  private tenant(ctx: StorageContext, create: false): TenantData | undefined;
  private tenant(ctx: StorageContext, create: boolean): TenantData | undefined {
    let t = this.tenants.get(ctx.tenant);
    if (!t && create) {
      t = new TenantData();
      this.tenants.set(ctx.tenant, t);
    }
    return t;
  }

  async writeTraces(td: Traces, ctx: StorageContext): Promise<void> {
    if (td.spanCount === 0) return;
    const { parts, rejectedSpans } = toProtoParts(td);
    this.opts.metrics?.dropped('invalid', this.opts.component ?? 'memory', rejectedSpans);
    const tenant = this.tenant(ctx, true);
    let evicted = 0;
    for (const p of parts) evicted += this.writeTable(tenant, p.table, p.rows);
    this.opts.metrics?.dropped('evicted', this.opts.component ?? 'memory', evicted);
  }

  /** Indexes the rows of one table; returns the number of spans evicted to make room. */
  private writeTable(tenant: TenantData, t: SpanTable, rows: ArrayLike<number> | null): number {
    const traces = tenant.traces;
    const buf = t.buf;
    const n = rows === null ? t.n : rows.length;
    let evicted = 0;
    let prevRow = -1;
    let entry: TraceEntry | undefined;
    let seg: Segment | undefined;
    let opsService: string | undefined;
    let opsMap: Map<number, OpEntry[]> | undefined;
    for (let i = 0; i < n; i++) {
      const row = rows === null ? i : rows[i]!;
      if (prevRow < 0 || !t.sameTrace(row, prevRow)) {
        const key = t.traceKey(row);
        entry = traces.get(key);
        if (entry === undefined) {
          entry = new TraceEntry(key, t);
          evicted += this.admit(tenant, entry);
          traces.set(key, entry);
          seg = entry;
        } else seg = entry.segmentFor(t);
      }
      prevRow = row;
      seg!.rows.push(row);
      entry!.spanCount++;

      // operations index: recognise (service, name, kind) from the name bytes, decode only new names
      const service = t.serviceName(row);
      if (service !== opsService) {
        opsService = service;
        opsMap = tenant.ops.get(service);
        if (opsMap === undefined) {
          opsMap = new Map();
          tenant.ops.set(service, opsMap);
        }
      }
      const off = t.nameOffset(row);
      const len = t.nameLength(row);
      const kind = t.kind(row);
      const bit = 1 << (kind <= 5 ? kind : 0);
      const h = hashBytes(buf, off, len);
      let list = opsMap!.get(h);
      let op: OpEntry | undefined;
      if (list !== undefined) {
        for (const e of list) {
          if (e.bytes.length === len && sameBytes(e.bytes, buf, off)) {
            op = e;
            break;
          }
        }
      } else {
        list = [];
        opsMap!.set(h, list);
      }
      if (op === undefined) {
        op = { bytes: buf.slice(off, off + len), name: t.name(row), kinds: 0 };
        list.push(op);
      }
      op.kinds |= bit;
    }
    return evicted;
  }

  /** Adds a new trace to the tenant's ring, evicting the oldest when full; returns evicted spans. */
  private admit(tenant: TenantData, entry: TraceEntry): number {
    const ring = tenant.ring;
    if (ring.length < this.maxTraces) {
      ring.push(entry);
      return 0;
    }
    const oldest = ring[tenant.head]!;
    ring[tenant.head] = entry;
    tenant.head = (tenant.head + 1) % this.maxTraces;
    tenant.traces.delete(oldest.key);
    return oldest.spanCount;
  }

  /** A Traces holding every stored span of the trace (a snapshot: later writes do not change it). */
  private traceOf(e: TraceEntry): Traces {
    const views: Traces[] = e.segments().map((s) => new ProtoTraces(s.t, s.rows.slice()));
    return Traces.merge(views);
  }

  async *getTraces(params: readonly GetTraceParams[], ctx: StorageContext): AsyncIterable<Traces[]> {
    const tenant = this.tenant(ctx, false);
    if (!tenant) return;
    let chunk: Traces[] = [];
    const seen = new Set<string>();
    for (const p of params) {
      const key = hexToKey(p.traceId, 16);
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      const e = tenant.traces.get(key);
      if (!e) continue;
      chunk.push(this.traceOf(e));
      if (chunk.length >= CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length) yield chunk;
  }

  async getServices(ctx: StorageContext): Promise<string[]> {
    const tenant = this.tenant(ctx, false);
    if (!tenant) return [];
    return [...tenant.ops.keys()].filter((s) => s !== '').sort(cmp);
  }

  async getOperations(query: { serviceName: string; spanKind?: SpanKindName }, ctx: StorageContext): Promise<Operation[]> {
    const ops = this.tenant(ctx, false)?.ops.get(query.serviceName);
    if (!ops) return [];
    const out: Operation[] = [];
    const wantKind = query.spanKind ? spanKindNames.indexOf(query.spanKind) : -1;
    for (const list of ops.values()) {
      for (const { name, kinds } of list) {
        for (let k = 0; k < spanKindNames.length; k++) {
          if ((kinds & (1 << k)) === 0 || (wantKind >= 0 && k !== wantKind)) continue;
          out.push({ name, spanKind: spanKindNames[k]! });
        }
      }
    }
    return out.sort(compareOperations);
  }

  /** The matching traces, newest first (by their latest matching span start), at most searchDepth. */
  private search(query: TraceQuery, ctx: StorageContext): TraceEntry[] {
    const tenant = this.tenant(ctx, false);
    if (!tenant) return [];
    const m = new SpanMatcher(query);
    const hits: { e: TraceEntry; hi: number; lo: number }[] = [];
    for (const e of tenant.traces.values()) {
      let found = false;
      let bhi = 0;
      let blo = 0;
      for (const s of e.segments()) {
        const t = s.t;
        for (const row of s.rows) {
          if (!m.matches(t, row)) continue;
          const hi = t.startHi(row);
          const lo = t.startLo(row);
          if (!found || hi > bhi || (hi === bhi && lo > blo)) {
            found = true;
            bhi = hi;
            blo = lo;
          }
        }
      }
      if (found) hits.push({ e, hi: bhi, lo: blo });
    }
    hits.sort((a, b) => b.hi - a.hi || b.lo - a.lo);
    const depth = Math.max(1, Math.floor(query.searchDepth));
    return hits.slice(0, depth).map((h) => h.e);
  }

  async *findTraces(query: TraceQuery, ctx: StorageContext): AsyncIterable<Traces[]> {
    const found = this.search(query, ctx);
    for (let i = 0; i < found.length; i += CHUNK) yield found.slice(i, i + CHUNK).map((e) => this.traceOf(e));
  }

  async *findTraceIds(query: TraceQuery, ctx: StorageContext): AsyncIterable<FoundTraceId[]> {
    const found = this.search(query, ctx);
    for (let i = 0; i < found.length; i += CHUNK) {
      yield found.slice(i, i + CHUNK).map((e) => {
        let start: bigint | undefined;
        let end: bigint | undefined;
        for (const s of e.segments()) {
          for (const row of s.rows) {
            const st = s.t.startNanos(row);
            const en = s.t.endNanos(row);
            if (start === undefined || st < start) start = st;
            if (end === undefined || en > end) end = en;
            if (st > end) end = st;
          }
        }
        return { traceId: keyToHex(e.key) as TraceId, start, end };
      });
    }
  }

  async getDependencies(query: { start: bigint; end: bigint }, ctx: StorageContext): Promise<DependencyLink[]> {
    const tenant = this.tenant(ctx, false);
    if (!tenant) return [];
    const minHi = Number(query.start >> 32n);
    const minLo = Number(query.start & 0xffffffffn);
    const maxHi = Number(query.end >> 32n);
    const maxLo = Number(query.end & 0xffffffffn);
    const counts = new Map<string, number>();
    for (const e of tenant.traces.values()) {
      let serviceBySpan: Map<string, string> | undefined;
      for (const s of e.segments()) {
        const t = s.t;
        for (const row of s.rows) {
          const hi = t.startHi(row);
          const lo = t.startLo(row);
          if (hi < minHi || (hi === minHi && lo < minLo) || hi > maxHi || (hi === maxHi && lo > maxLo)) continue;
          const parent = t.parentKey(row);
          if (parent === '') continue;
          if (serviceBySpan === undefined) {
            serviceBySpan = new Map();
            for (const s2 of e.segments()) for (const r2 of s2.rows) serviceBySpan.set(s2.t.spanKey(r2), s2.t.serviceName(r2));
          }
          const ps = serviceBySpan.get(parent);
          const cs = t.serviceName(row);
          if (ps === undefined || ps === cs) continue;
          const k = `${ps}\u0000${cs}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
      }
    }
    const out: DependencyLink[] = [];
    for (const [k, callCount] of counts) {
      const i = k.indexOf('\u0000');
      out.push({ parent: k.slice(0, i), child: k.slice(i + 1), callCount });
    }
    return out.sort((a, b) => cmp(a.parent, b.parent) || cmp(a.child, b.child));
  }

  /** Number of traces held for a tenant (for tests and metrics). */
  traceCount(ctx: StorageContext): number {
    return this.tenant(ctx, false)?.traces.size ?? 0;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A TraceQuery compiled for the typed-array rows: cheap checks first, attributes last. */
class SpanMatcher {
  private readonly service: string | undefined;
  private readonly name: Uint8Array | undefined;
  private readonly kind: number;
  private readonly minHi: number;
  private readonly minLo: number;
  private readonly maxHi: number;
  private readonly maxLo: number;
  private readonly durMin: number;
  private readonly durMax: number;
  private readonly attrs: ReadonlyMap<string, string> | undefined;

  constructor(q: TraceQuery) {
    this.service = q.serviceName || undefined;
    this.name = q.operationName ? new TextEncoder().encode(q.operationName) : undefined;
    this.kind = q.spanKind ? spanKindNames.indexOf(q.spanKind) : -1;
    const min = q.startTimeMin ?? 0n;
    const max = q.startTimeMax ?? 0xffffffffffffffffn;
    const clamp = (v: bigint) => (v < 0n ? 0n : v > 0xffffffffffffffffn ? 0xffffffffffffffffn : v);
    this.minHi = Number(clamp(min) >> 32n);
    this.minLo = Number(clamp(min) & 0xffffffffn);
    this.maxHi = Number(clamp(max) >> 32n);
    this.maxLo = Number(clamp(max) & 0xffffffffn);
    this.durMin = q.durationMin !== undefined ? Number(q.durationMin) : -Infinity;
    this.durMax = q.durationMax !== undefined ? Number(q.durationMax) : Infinity;
    this.attrs = q.attributes && q.attributes.size > 0 ? q.attributes : undefined;
  }

  matches(t: SpanTable, row: number): boolean {
    if (this.service !== undefined && t.serviceName(row) !== this.service) return false;
    if (this.name !== undefined && !t.nameEquals(row, this.name)) return false;
    if (this.kind >= 0 && spanKindName(t.kind(row) as never) !== spanKindNames[this.kind]) return false;
    const hi = t.startHi(row);
    const lo = t.startLo(row);
    if (hi < this.minHi || (hi === this.minHi && lo < this.minLo)) return false;
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) return false;
    const d = t.durationNanos(row);
    if (d < this.durMin || d > this.durMax) return false;
    if (this.attrs !== undefined && !t.matchesAttributes(row, this.attrs)) return false;
    return true;
  }
}
