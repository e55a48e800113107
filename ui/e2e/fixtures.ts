/**
 * Generated OTLP JSON traces for the browser tests and the browser benchmark: HotROD-like
 * multi-service traces (with errors, events, links, an incomplete trace whose parent span never
 * arrived) and one big trace of any size (50,000 spans for the tests). Deterministic (seeded).
 */

type Attr = { key: string; value: Record<string, unknown> };
interface GenSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attr[];
  events?: Array<{ timeUnixNano: string; name: string; attributes: Attr[] }>;
  links?: Array<{ traceId: string; spanId: string; attributes: Attr[] }>;
  status?: { code: number; message?: string };
}

export function rng(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

function hex(r: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += Math.floor(r() * 256).toString(16).padStart(2, '0');
  return out;
}

const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } });
const bool = (key: string, v: boolean): Attr => ({ key, value: { boolValue: v } });
const ns = (ms: number): string => BigInt(Math.round(ms * 1e6)).toString();

/** One OTLP JSON export request holding `spans`, grouped into one resource per service. */
export function toRequest(spans: Array<GenSpan & { service: string }>): unknown {
  const by = new Map<string, GenSpan[]>();
  for (const { service, ...s } of spans) {
    let l = by.get(service);
    if (!l) by.set(service, (l = []));
    l.push(s);
  }
  return {
    resourceSpans: [...by].map(([service, list]) => ({
      resource: { attributes: [str('service.name', service), str('telemetry.sdk.language', 'nodejs'), str('host.name', `${service}-host`)] },
      scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.200.0' }, spans: list }],
    })),
  };
}

export interface DispatchTraceOptions {
  seed: number;
  /** Start of the trace, ms since epoch. */
  startMs: number;
  drivers?: number;
  /** Make one driver lookup fail. */
  error?: boolean;
  /** Drop the frontend's root span, so that children reference a parent that never arrived. */
  dropRoot?: boolean;
  /** An extra call from the frontend (so that two traces differ in structure). */
  extra?: { service: string; name: string };
  /** Extra attributes on the root span (e.g. a tag to search for). */
  rootAttributes?: Record<string, string>;
}

/** A HotROD-like "dispatch" trace: frontend → customer → mysql, frontend → driver → redis ×N, frontend → route ×N. */
export function dispatchTrace(o: DispatchTraceOptions): { traceId: string; spans: Array<GenSpan & { service: string }> } {
  const r = rng(o.seed);
  const traceId = hex(r, 16);
  const spans: Array<GenSpan & { service: string }> = [];
  const add = (service: string, name: string, kind: number, parent: string | undefined, startMs: number, durMs: number, attributes: Attr[], extra: Partial<GenSpan> = {}): string => {
    const spanId = hex(r, 8);
    spans.push({
      service, traceId, spanId, ...(parent ? { parentSpanId: parent } : {}), name, kind,
      startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(startMs + durMs), attributes, status: { code: 0 }, ...extra,
    });
    return spanId;
  };
  const t0 = o.startMs;
  const drivers = o.drivers ?? 10;
  const total = 300 + drivers * 25 + r() * 100;
  const root = add('frontend', 'GET /dispatch', 2, undefined, t0, total, [str('http.method', 'GET'), str('http.route', '/dispatch'), int('http.status_code', 200), str('customer.id', '123'), ...Object.entries(o.rootAttributes ?? {}).map(([k, v]) => str(k, v))]);
  if (o.extra) {
    const c = add('frontend', `HTTP ${o.extra.name}`, 3, root, t0 + 1, 12, [str('peer.service', o.extra.service)]);
    add(o.extra.service, o.extra.name, 2, c, t0 + 2, 10, [str('http.route', o.extra.name)]);
  }
  const cust = add('frontend', 'HTTP GET customer', 3, root, t0 + 2, 180, [str('http.method', 'GET'), str('peer.service', 'customer')]);
  const custSrv = add('customer', 'GET /customer', 2, cust, t0 + 3, 176, [str('http.route', '/customer'), int('http.status_code', 200)]);
  add('mysql', 'SQL SELECT', 3, custSrv, t0 + 5, 170, [str('db.system', 'mysql'), str('db.statement', 'SELECT * FROM customer WHERE customer_id=123')], {
    events: [{ timeUnixNano: ns(t0 + 6), name: 'Waiting for lock behind 2 transactions', attributes: [str('blockers', '[1 2]')] }],
  });
  const drv = add('frontend', 'HTTP GET driver', 3, root, t0 + 185, drivers * 12 + 20, [str('peer.service', 'driver')]);
  const drvSrv = add('driver', 'GET /drivers', 2, drv, t0 + 186, drivers * 12 + 15, [str('http.route', '/drivers')]);
  add('redis', 'FindDriverIDs', 3, drvSrv, t0 + 187, 15, [str('db.system', 'redis'), str('location', '115,277')]);
  for (let i = 0; i < drivers; i++) {
    const fail = o.error === true && i === 3;
    add('redis', 'GetDriver', 3, drvSrv, t0 + 203 + i * 12, 10 + r() * 2, [str('db.system', 'redis'), str('driver.id', `T7${String(100 + i)}`), ...(fail ? [bool('error', true)] : [])], fail
      ? { status: { code: 2, message: 'redis timeout' }, events: [{ timeUnixNano: ns(t0 + 213 + i * 12), name: 'exception', attributes: [str('exception.type', 'TimeoutError'), str('exception.message', 'redis timeout')] }] }
      : {});
  }
  const routeStart = t0 + 205 + drivers * 12 + 20;
  for (let i = 0; i < drivers; i++) {
    const s = routeStart + Math.floor(i / 3) * 25;
    const cl = add('frontend', 'HTTP GET route', 3, root, s, 24, [str('peer.service', 'route')]);
    add('route', 'GET /route', 2, cl, s + 1, 20 + r() * 2, [str('http.route', '/route'), str('pickup', '115,277'), str('dropoff', '577,322')], {
      links: i === 0 ? [{ traceId: hex(r, 16), spanId: hex(r, 8), attributes: [str('link.reason', 'batch')] }] : [],
    });
  }
  if (o.dropRoot) return { traceId, spans: spans.filter((s) => s.spanId !== root) };
  return { traceId, spans };
}

/**
 * A big trace of `n` spans across 8 services that call each other along a fixed graph (gateway →
 * orders/search/recommend → inventory/payments/shipping → postgres): 25 top-level calls, then
 * 1–6 children per span laid out one after another inside their parent (depth about 7), ~0.5%
 * errors, a few events. Returned in chunks of OTLP JSON export requests of at most `chunk` spans.
 */
export function bigTrace(n: number, opts: { seed?: number; startMs?: number; chunk?: number } = {}): { traceId: string; requests: unknown[]; rootName: string } {
  const r = rng(opts.seed ?? 7);
  const traceId = hex(r, 16);
  const t0 = opts.startMs ?? Date.now() - 60_000;
  const callees: Record<string, string[]> = {
    gateway: ['orders', 'search', 'recommend'],
    orders: ['inventory', 'payments', 'shipping', 'postgres'],
    search: ['recommend', 'postgres'],
    recommend: ['postgres'],
    inventory: ['postgres'],
    payments: ['postgres'],
    shipping: ['postgres', 'inventory'],
    postgres: [],
  };
  const ops: Record<string, string[]> = {
    gateway: ['POST /orders', 'GET /search', 'GET /recommendations', 'authorize'],
    orders: ['create order', 'validate order', 'price order', 'reserve items'],
    search: ['query index', 'rank results', 'fetch documents'],
    recommend: ['score candidates', 'load model features'],
    inventory: ['check stock', 'reserve stock'],
    payments: ['authorize card', 'fraud check', 'capture'],
    shipping: ['quote rates', 'book courier'],
    postgres: ['SELECT', 'INSERT', 'UPDATE', 'BEGIN', 'COMMIT'],
  };
  const pick = <T>(l: readonly T[]): T => l[Math.floor(r() * l.length)]!;
  interface Node { id: string; start: number; dur: number; service: string; kids: number }
  const all: Array<GenSpan & { service: string }> = [];
  const rootId = hex(r, 8);
  const rootName = 'POST /batch-import';
  const root: Node = { id: rootId, start: t0, dur: 30_000, service: 'gateway', kids: 25 };
  all.push({ service: 'gateway', traceId, spanId: rootId, name: rootName, kind: 2, startTimeUnixNano: ns(t0), endTimeUnixNano: ns(t0 + root.dur), attributes: [str('http.method', 'POST'), str('http.route', '/batch-import'), int('http.status_code', 200)], status: { code: 0 } });
  const queue: Node[] = [root];
  let q = 0;
  while (all.length < n && q < queue.length) {
    const p = queue[q++]!;
    const k = p.kids;
    const slot = p.dur / k;
    for (let c = 0; c < k && all.length < n; c++) {
      const start = p.start + c * slot + r() * slot * 0.05;
      const dur = slot * (0.3 + r() * 0.65);
      const cs = callees[p.service]!;
      const service = cs.length === 0 || r() < 0.55 ? p.service : pick(cs);
      const name = service === p.service && service !== 'postgres' ? `${pick(ops[service]!)}` : pick(ops[service]!);
      const id = hex(r, 8);
      const err = r() < 0.005;
      const span: GenSpan & { service: string } = {
        service, traceId, spanId: id, parentSpanId: p.id, name, kind: service === p.service ? 1 : 3,
        startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + dur),
        attributes: [str('component', service), int('item.index', all.length), str('region', r() < 0.5 ? 'eu-west-1' : 'us-east-1')],
        status: err ? { code: 2, message: 'upstream failed' } : { code: 0 },
      };
      if (r() < 0.02) span.events = [{ timeUnixNano: ns(start + dur / 2), name: 'cache miss', attributes: [str('cache.key', `k${all.length}`)] }];
      all.push(span);
      queue.push({ id, start, dur, service, kids: service === 'postgres' ? (r() < 0.8 ? 0 : 1) : 1 + Math.floor(r() * 6) });
    }
  }
  const chunk = opts.chunk ?? 5000;
  const requests: unknown[] = [];
  for (let i = 0; i < all.length; i += chunk) requests.push(toRequest(all.slice(i, i + chunk)));
  return { traceId, requests, rootName };
}
