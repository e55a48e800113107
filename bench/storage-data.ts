/**
 * A realistic, deterministic trace data set for the storage benchmark: an online shop of 10
 * services (~100 operations), traces of 2–30 spans (10 on average) made of HTTP server/client
 * calls, database and cache calls, messaging and internal work; ~10 attributes per span with
 * OpenTelemetry semantic-convention keys (low- and high-cardinality values: user ids, URLs with
 * ids, message ids), events on ~10% of spans, errors (status + exception event with a stack trace)
 * in ~3% of traces. Spans are grouped into export requests the way SDKs send them: one service
 * instance per request (its resource once), ~`requestSpans` spans each.
 */
import type { AnyValue, KeyValue, ResourceSpans, Span, SpanEvent, SpanId, SpanKind, TraceId } from '../src/pdata/model.js';

const K = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

const s = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const i64 = (key: string, v: number): KeyValue => ({ key, value: { intValue: BigInt(v) } });
const b = (key: string, v: boolean): KeyValue => ({ key, value: { boolValue: v } });

interface Call {
  service: string;
  /** Route or operation handled by the callee (SERVER/CONSUMER span name). */
  op: string;
  kind: 'http' | 'db' | 'cache' | 'queue' | 'internal';
  children?: Call[];
}

const SERVICE_NAMES = ['frontend', 'cart', 'checkout', 'payment', 'product-catalog', 'recommendation', 'shipping', 'email', 'ad', 'currency'];

/** The request flows of the shop: each becomes a trace shape. */
function flows(): Call[] {
  const cur: Call = { service: 'currency', op: 'POST /convert', kind: 'http', children: [{ service: 'currency', op: 'convert', kind: 'internal' }] };
  const catalogGet: Call = {
    service: 'product-catalog',
    op: 'GET /products/{id}',
    kind: 'http',
    children: [{ service: 'product-catalog', op: 'SELECT products', kind: 'db' }, { service: 'product-catalog', op: 'GET', kind: 'cache' }],
  };
  const catalogList: Call = {
    service: 'product-catalog',
    op: 'GET /products',
    kind: 'http',
    children: [{ service: 'product-catalog', op: 'SELECT products', kind: 'db' }, { service: 'product-catalog', op: 'serialize', kind: 'internal' }],
  };
  const catalogSearch: Call = {
    service: 'product-catalog',
    op: 'GET /products/search',
    kind: 'http',
    children: [{ service: 'product-catalog', op: 'SELECT products', kind: 'db' }, { service: 'product-catalog', op: 'rank', kind: 'internal' }],
  };
  const reco: Call = {
    service: 'recommendation',
    op: 'GET /recommendations',
    kind: 'http',
    children: [{ service: 'recommendation', op: 'score', kind: 'internal' }, catalogList, { service: 'recommendation', op: 'GET', kind: 'cache' }],
  };
  const ad: Call = { service: 'ad', op: 'GET /ads', kind: 'http', children: [{ service: 'ad', op: 'select-ads', kind: 'internal' }, { service: 'ad', op: 'SELECT ads', kind: 'db' }] };
  const cartGet: Call = {
    service: 'cart',
    op: 'GET /cart/{userId}',
    kind: 'http',
    children: [{ service: 'cart', op: 'HGETALL', kind: 'cache' }],
  };
  const cartAdd: Call = {
    service: 'cart',
    op: 'POST /cart/{userId}/items',
    kind: 'http',
    children: [{ service: 'cart', op: 'HSET', kind: 'cache' }, { service: 'cart', op: 'EXPIRE', kind: 'cache' }, catalogGet],
  };
  const cartEmpty: Call = { service: 'cart', op: 'DELETE /cart/{userId}', kind: 'http', children: [{ service: 'cart', op: 'DEL', kind: 'cache' }] };
  const shipQuote: Call = {
    service: 'shipping',
    op: 'POST /shipping/quote',
    kind: 'http',
    children: [{ service: 'shipping', op: 'calculate-quote', kind: 'internal' }, cur],
  };
  const shipShip: Call = {
    service: 'shipping',
    op: 'POST /shipping/ship',
    kind: 'http',
    children: [{ service: 'shipping', op: 'INSERT shipments', kind: 'db' }, { service: 'shipping', op: 'create-label', kind: 'internal' }],
  };
  const pay: Call = {
    service: 'payment',
    op: 'POST /charge',
    kind: 'http',
    children: [
      { service: 'payment', op: 'validate-card', kind: 'internal' },
      { service: 'payment', op: 'INSERT payments', kind: 'db' },
      { service: 'payment', op: 'fraud-check', kind: 'internal' },
    ],
  };
  const email: Call = {
    service: 'email',
    op: 'orders process',
    kind: 'queue',
    children: [{ service: 'email', op: 'render-template', kind: 'internal' }, { service: 'email', op: 'send-smtp', kind: 'internal' }],
  };
  const checkout: Call = {
    service: 'checkout',
    op: 'POST /checkout',
    kind: 'http',
    children: [
      cartGet,
      catalogGet,
      shipQuote,
      cur,
      pay,
      shipShip,
      cartEmpty,
      { service: 'checkout', op: 'INSERT orders', kind: 'db' },
      email,
    ],
  };
  const fe = (op: string, children: Call[]): Call => ({
    service: 'frontend',
    op,
    kind: 'http',
    children: [{ service: 'frontend', op: 'render', kind: 'internal' }, ...children],
  });
  const reviews: Call = {
    service: 'product-catalog',
    op: 'GET /products/{id}/reviews',
    kind: 'http',
    children: [{ service: 'product-catalog', op: 'SELECT reviews', kind: 'db' }, { service: 'product-catalog', op: 'authorize', kind: 'internal' }],
  };
  const popular: Call = {
    service: 'recommendation',
    op: 'GET /recommendations/popular',
    kind: 'http',
    children: [{ service: 'recommendation', op: 'ZRANGE', kind: 'cache' }, { service: 'recommendation', op: 'load-model', kind: 'internal' }],
  };
  const adsCat: Call = { service: 'ad', op: 'GET /ads/{id}', kind: 'http', children: [{ service: 'ad', op: 'targeting', kind: 'internal' }, { service: 'ad', op: 'GET', kind: 'cache' }] };
  const track: Call = { service: 'shipping', op: 'GET /shipping/track/{id}', kind: 'http', children: [{ service: 'shipping', op: 'SELECT shipments', kind: 'db' }] };
  const refund: Call = {
    service: 'payment',
    op: 'POST /refund',
    kind: 'http',
    children: [{ service: 'payment', op: 'UPDATE payments', kind: 'db' }, { service: 'payment', op: 'audit-log', kind: 'internal' }],
  };
  const confirm: Call = {
    service: 'email',
    op: 'POST /email/confirmation',
    kind: 'http',
    children: [{ service: 'email', op: 'render-template', kind: 'internal' }, { service: 'email', op: 'SELECT templates', kind: 'db' }],
  };
  const rates: Call = { service: 'currency', op: 'GET /currencies', kind: 'http', children: [{ service: 'currency', op: 'load-rates', kind: 'internal' }, { service: 'currency', op: 'GET', kind: 'cache' }] };
  const cartUpdate: Call = {
    service: 'cart',
    op: 'PUT /cart/{userId}/items/{id}',
    kind: 'http',
    children: [{ service: 'cart', op: 'HSET', kind: 'cache' }, { service: 'cart', op: 'validate-item', kind: 'internal' }],
  };
  const orders: Call = {
    service: 'checkout',
    op: 'GET /orders/{id}',
    kind: 'http',
    children: [{ service: 'checkout', op: 'SELECT orders', kind: 'db' }, { service: 'checkout', op: 'serialize', kind: 'internal' }],
  };
  const job = (service: string, op: string, children: Call[]): Call => ({ service, op, kind: 'internal', children });
  return [
    fe('GET /', [catalogList, ad, cur]),
    fe('GET /', [catalogList, ad]),
    fe('GET /product/{id}', [catalogGet, reco, ad, cur]),
    fe('GET /product/{id}', [catalogGet, reco]),
    fe('GET /cart', [cartGet, reco, cur]),
    fe('POST /cart', [cartAdd]),
    fe('POST /checkout', [checkout]),
    fe('GET /search', [catalogSearch, ad]),
    fe('GET /api/currencies', [rates]),
    fe('GET /static/{file}', []),
    fe('GET /account', [{ service: 'frontend', op: 'SELECT users', kind: 'db' }]),
    fe('POST /login', [{ service: 'frontend', op: 'SELECT users', kind: 'db' }, { service: 'frontend', op: 'SET', kind: 'cache' }]),
    fe('GET /product/{id}/reviews', [reviews]),
    fe('GET /api/popular', [popular]),
    fe('GET /api/ads', [adsCat]),
    fe('GET /orders/{id}', [orders, track]),
    fe('POST /orders/{id}/refund', [refund, confirm]),
    fe('PUT /cart/items/{id}', [cartUpdate]),
    job('shipping', 'sync-carriers', [{ service: 'shipping', op: 'SELECT carriers', kind: 'db' }, { service: 'shipping', op: 'UPDATE carriers', kind: 'db' }]),
    job('recommendation', 'retrain', [{ service: 'recommendation', op: 'SELECT interactions', kind: 'db' }, { service: 'recommendation', op: 'fit', kind: 'internal' }, { service: 'recommendation', op: 'SET', kind: 'cache' }]),
    job('ad', 'refresh-campaigns', [{ service: 'ad', op: 'SELECT campaigns', kind: 'db' }]),
    job('email', 'flush-queue', [{ service: 'email', op: 'send-smtp', kind: 'internal' }]),
    job('payment', 'reconcile', [{ service: 'payment', op: 'SELECT payments', kind: 'db' }, { service: 'payment', op: 'compare-ledger', kind: 'internal' }]),
    job('currency', 'fetch-rates', [{ service: 'currency', op: 'GET', kind: 'cache' }, { service: 'currency', op: 'SET', kind: 'cache' }]),
  ];
}

const FLOW_WEIGHTS = [10, 10, 12, 10, 8, 6, 3, 8, 4, 8, 4, 4, 5, 4, 4, 4, 2, 4, 2, 1, 2, 2, 2, 2];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
];

const EXCEPTIONS = [
  ['TimeoutError', 'upstream request timed out after 2000ms'],
  ['ConnectionRefusedError', 'connect ECONNREFUSED 10.0.3.17:5432'],
  ['PaymentDeclinedError', 'card declined: insufficient funds'],
  ['ValidationError', 'invalid quantity: must be between 1 and 10'],
  ['RedisError', 'READONLY You can\'t write against a read only replica.'],
] as const;

function stackTrace(r: () => number, type: string, service: string): string {
  const frames: string[] = [`${type}: see message`];
  const n = 8 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    frames.push(`    at ${['handle', 'process', 'execute', 'call', 'run', 'next', 'dispatch'][i % 7]}${i} (/app/${service}/src/${['server', 'handlers', 'db', 'client', 'util'][i % 5]}.js:${10 + Math.floor(r() * 400)}:${1 + Math.floor(r() * 40)})`);
  }
  return frames.join('\n');
}

interface Instance {
  service: string;
  resource: ResourceSpans['resource'];
  spans: Span[];
}

export interface DatasetOptions {
  /** Number of spans to generate (approximately: whole traces). */
  spans: number;
  /** Spans per export request (per service instance). */
  requestSpans?: number;
  /** Traces start within [endMs - windowMs, endMs]. */
  endMs?: number;
  windowMs?: number;
  seed?: number;
}

export interface Dataset {
  /** Yields export requests (one service instance's resource and ~requestSpans spans each). */
  requests(): Generator<ResourceSpans[]>;
  /** Facts for the queries after generation: known trace ids, a user id that exists, etc. */
  readonly facts: DatasetFacts;
}

export interface DatasetFacts {
  spans: number;
  traces: number;
  /** A sample of trace ids (reservoir), for get-trace queries. */
  sampleTraceIds: TraceId[];
  /** A sample of user ids seen (each appears on every span of a few traces). */
  sampleUserIds: string[];
  startMs: number;
  endMs: number;
  services: Set<string>;
  operations: Set<string>;
  /** Server spans that exist (for queries with every filter): service, operation, user id, duration. */
  probes: { service: string; operation: string; userId: string; durationNs: number; traceId: string }[];
}

export function dataset(o: DatasetOptions): Dataset {
  const r = mulberry32(o.seed ?? 42);
  const requestSpans = o.requestSpans ?? 100;
  const endMs = o.endMs ?? Date.now();
  const windowMs = o.windowMs ?? 3 * 3600_000;
  const flowList = flows();
  const weightSum = FLOW_WEIGHTS.reduce((a, x) => a + x, 0);
  const facts: DatasetFacts = {
    spans: 0,
    traces: 0,
    sampleTraceIds: [],
    sampleUserIds: [],
    startMs: endMs - windowMs,
    endMs,
    services: new Set(),
    operations: new Set(),
    probes: [],
  };

  const hex = (bytes: number): string => {
    let out = '';
    for (let i = 0; i < bytes; i++) out += HEX[(r() * 256) | 0];
    return out;
  };
  const pick = <T>(a: readonly T[]): T => a[(r() * a.length) | 0]!;

  // 3 instances per service, each its own resource.
  const instances = new Map<string, Instance[]>();
  for (const svc of SERVICE_NAMES) {
    const list: Instance[] = [];
    for (let n = 0; n < 3; n++) {
      const pod = `${svc}-${hex(4)}-${hex(2)}`;
      const lang = svc === 'frontend' || svc === 'payment' ? 'nodejs' : svc === 'cart' ? 'dotnet' : svc === 'checkout' || svc === 'product-catalog' ? 'go' : svc === 'ad' ? 'java' : 'python';
      list.push({
        service: svc,
        spans: [],
        resource: {
          attributes: [
            s('service.name', svc),
            s('service.namespace', 'shop'),
            s('service.version', `1.${(svc.length * 7) % 13}.${n}`),
            s('service.instance.id', `${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}`),
            s('deployment.environment.name', 'production'),
            s('host.name', pod),
            s('host.arch', 'amd64'),
            s('os.type', 'linux'),
            i64('process.pid', 1 + ((r() * 30000) | 0)),
            s('process.runtime.name', lang),
            s('telemetry.sdk.language', lang),
            s('telemetry.sdk.name', 'opentelemetry'),
            s('telemetry.sdk.version', '1.26.0'),
            s('k8s.namespace.name', 'shop'),
            s('k8s.pod.name', pod),
            s('k8s.node.name', `node-${(r() * 12) | 0}`),
            s('cloud.region', 'eu-west-1'),
          ],
          droppedAttributesCount: 0,
        },
      });
    }
    instances.set(svc, list);
  }

  function* requests(): Generator<ResourceSpans[]> {
    const nTraces = Math.max(1, Math.round(o.spans / 10));
    // Traces start in time order (as a live system produces them), with jitter.
    const step = windowMs / nTraces;
    let emitted = 0;
    for (let t = 0; emitted < o.spans; t++) {
      const startMs = facts.startMs + t * step + r() * step;
      const traceId = hex(16) as TraceId;
      const userId = `user-${(r() * 100_000) | 0}`;
      const sessionIp = `10.${(r() * 256) | 0}.${(r() * 256) | 0}.${(r() * 256) | 0}`;
      const ua = pick(USER_AGENTS);
      const error = r() < 0.03;
      let fi = r() * weightSum;
      let flowIdx = 0;
      while (fi >= FLOW_WEIGHTS[flowIdx]!) fi -= FLOW_WEIGHTS[flowIdx++]!;
      const flow = flowList[flowIdx]!;
      const spans: { inst: Instance; span: Span }[] = [];
      const instFor = new Map<string, Instance>();
      const inst = (svc: string): Instance => {
        let x = instFor.get(svc);
        if (!x) instFor.set(svc, (x = pick(instances.get(svc)!)));
        return x;
      };
      const startNs = BigInt(Math.floor(startMs)) * 1_000_000n + BigInt((r() * 1_000_000) | 0);
      // Pick the failing span: a leaf-ish call somewhere in the tree.
      let failAt = error ? 1 + ((r() * 6) | 0) : -1;
      let counter = 0;

      const emit = (svc: string, name: string, kind: SpanKind, parent: SpanId | '', start: bigint, dur: bigint, attributes: KeyValue[], events: SpanEvent[], failed: boolean): SpanId => {
        const spanId = hex(8) as SpanId;
        facts.services.add(svc);
        facts.operations.add(`${svc}\u0000${name}`);
        spans.push({
          inst: inst(svc),
          span: {
            traceId,
            spanId,
            traceState: '',
            parentSpanId: parent,
            flags: 0x301,
            name,
            kind,
            startTimeUnixNano: start,
            endTimeUnixNano: start + dur,
            attributes,
            droppedAttributesCount: 0,
            events,
            droppedEventsCount: 0,
            links: [],
            droppedLinksCount: 0,
            status: failed ? { code: 2, message: 'request failed' } : { code: 0, message: '' },
          },
        });
        return spanId;
      };

      /** Emits the call (client side in `caller`, server side in call.service); returns [end, failed]. */
      const visit = (call: Call, caller: string | undefined, parent: SpanId | '', start: bigint): [bigint, boolean] => {
        counter++;
        const me = counter;
        const selfMs = call.kind === 'db' ? 0.3 + r() * r() * 40 : call.kind === 'cache' ? 0.05 + r() * 1.5 : call.kind === 'internal' ? 0.02 + r() * r() * 8 : 0.5 + r() * 3;
        let t = start + BigInt(Math.floor(selfMs * 300_000));
        let failed = me === failAt;
        const svc = call.service;
        const thread = s('thread.name', `worker-${(r() * 16) | 0}`);
        if (call.kind === 'http') {
          const id = (r() * 100_000) | 0;
          const path = call.op.replace(/^\w+ /, '').replace('{id}', String(id)).replace('{userId}', userId).replace('{file}', `app.${hex(4)}.js`);
          const method = call.op.split(' ')[0]!;
          let clientId: SpanId | '' = parent;
          const clientStart = t;
          if (caller !== undefined) {
            // The caller's CLIENT span, named by method as OTel HTTP clients do.
            clientId = hex(8) as SpanId;
          }
          const serverStart = clientStart + BigInt(100_000 + ((r() * 400_000) | 0));
          let end = serverStart + BigInt(Math.floor(selfMs * 1_000_000));
          let childFailed = false;
          const serverId = hex(8) as SpanId;
          let cursor = serverStart + 50_000n;
          for (const ch of call.children ?? []) {
            const [e, f] = visit(ch, svc, serverId, cursor);
            cursor = e + BigInt((r() * 200_000) | 0);
            if (f) childFailed = true;
          }
          if (cursor > end) end = cursor + BigInt((r() * 500_000) | 0);
          failed = failed || childFailed;
          const status = failed ? (r() < 0.5 ? 500 : 503) : method === 'POST' && r() < 0.3 ? 201 : 200;
          const events: SpanEvent[] = [];
          if (me === failAt) events.push(exceptionEvent(end - 10_000n, svc));
          else if (r() < 0.08) events.push({ timeUnixNano: serverStart + 20_000n, name: 'request.body.parsed', attributes: [i64('body.size', (r() * 8000) | 0)], droppedAttributesCount: 0 });
          const server = {
            id: serverId,
            attrs: [
              s('http.request.method', method),
              s('http.route', call.op.replace(/^\w+ /, '')),
              s('url.path', path),
              s('url.scheme', 'http'),
              i64('http.response.status_code', status),
              s('server.address', svc),
              i64('server.port', 8080),
              s('client.address', sessionIp),
              s('user_agent.original', ua),
              s('user.id', userId),
              s('network.protocol.version', '1.1'),
            ],
          };
          // Write the server span with a fixed id (children already point to it).
          spans.push({
            inst: inst(svc),
            span: {
              traceId,
              spanId: server.id,
              traceState: '',
              parentSpanId: clientId,
              flags: 0x301,
              name: call.op,
              kind: K.SERVER,
              startTimeUnixNano: serverStart,
              endTimeUnixNano: end,
              attributes: server.attrs,
              droppedAttributesCount: 0,
              events,
              droppedEventsCount: 0,
              links: [],
              droppedLinksCount: 0,
              status: failed ? { code: 2, message: `HTTP ${status}` } : { code: 0, message: '' },
            },
          });
          facts.services.add(svc);
          facts.operations.add(`${svc}\u0000${call.op}`);
          const probe = { service: svc, operation: call.op, userId, durationNs: Number(end - serverStart), traceId };
          if (facts.probes.length < 200) facts.probes.push(probe);
          else if (r() < 0.0005) facts.probes[(r() * 200) | 0] = probe;
          const clientEnd = end + BigInt(50_000 + ((r() * 300_000) | 0));
          if (caller !== undefined) {
            spans.push({
              inst: inst(caller),
              span: {
                traceId,
                spanId: clientId as SpanId,
                traceState: '',
                parentSpanId: parent,
                flags: 0x301,
                name: method,
                kind: K.CLIENT,
                startTimeUnixNano: clientStart,
                endTimeUnixNano: clientEnd,
                attributes: [
                  s('http.request.method', method),
                  s('url.full', `http://${svc}:8080${path}`),
                  s('server.address', svc),
                  i64('server.port', 8080),
                  i64('http.response.status_code', status),
                  s('network.protocol.version', '1.1'),
                  s('peer.service', svc),
                  s('user.id', userId),
                  thread,
                  i64('http.request.resend_count', 0),
                ],
                droppedAttributesCount: 0,
                events: [],
                droppedEventsCount: 0,
                links: [],
                droppedLinksCount: 0,
                status: failed ? { code: 2, message: '' } : { code: 0, message: '' },
              },
            });
            facts.operations.add(`${caller}\u0000${method}`);
          }
          return [caller !== undefined ? clientEnd : end, failed];
        }
        if (call.kind === 'queue') {
          // PRODUCER in the caller, CONSUMER in the callee.
          const prodStart = t;
          const msgId = `${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}`;
          const prodEnd = prodStart + BigInt(200_000 + ((r() * 800_000) | 0));
          const common = [
            s('messaging.system', 'kafka'),
            s('messaging.destination.name', 'orders'),
            s('messaging.message.id', msgId),
            i64('messaging.kafka.destination.partition', (r() * 12) | 0),
            s('server.address', 'kafka-0.kafka'),
            s('user.id', userId),
          ];
          const prodId = emit(caller ?? svc, 'orders publish', K.PRODUCER, parent, prodStart, prodEnd - prodStart, [...common, s('messaging.operation.type', 'publish'), i64('messaging.message.body.size', 200 + ((r() * 2000) | 0)), thread, s('messaging.client.id', `${caller}-producer`)], [], false);
          const consStart = prodEnd + BigInt(1_000_000 + ((r() * 20_000_000) | 0));
          const consId = hex(8) as SpanId;
          let cursor = consStart + 30_000n;
          for (const ch of call.children ?? []) cursor = visit(ch, svc, consId, cursor)[0] + 10_000n;
          spans.push({
            inst: inst(svc),
            span: {
              traceId,
              spanId: consId,
              traceState: '',
              parentSpanId: prodId,
              flags: 0x301,
              name: call.op,
              kind: K.CONSUMER,
              startTimeUnixNano: consStart,
              endTimeUnixNano: cursor + 20_000n,
              attributes: [...common, s('messaging.operation.type', 'process'), i64('messaging.kafka.offset', (r() * 1e9) | 0), s('messaging.consumer.group.name', 'email'), thread],
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              links: [],
              droppedLinksCount: 0,
              status: { code: 0, message: '' },
            },
          });
          facts.operations.add(`${svc}\u0000${call.op}`);
          return [prodEnd, false];
        }
        const dur = BigInt(Math.floor(selfMs * 1_000_000));
        let attrs: KeyValue[];
        let kind: SpanKind;
        if (call.kind === 'db') {
          kind = K.CLIENT;
          const [op, table] = call.op.split(' ') as [string, string];
          attrs = [
            s('db.system', 'postgresql'),
            s('db.namespace', 'shop'),
            s('db.operation.name', op),
            s('db.collection.name', table),
            s('db.query.text', op === 'SELECT' ? `SELECT id, name, price, stock FROM ${table} WHERE id = $1 AND tenant = $2 LIMIT 50` : `INSERT INTO ${table} (id, user_id, amount, created_at) VALUES ($1, $2, $3, now())`),
            s('server.address', `${svc}-db.internal`),
            i64('server.port', 5432),
            i64('db.response.returned_rows', (r() * 50) | 0),
            thread,
            s('user.id', userId),
          ];
        } else if (call.kind === 'cache') {
          kind = K.CLIENT;
          const hit = r() < 0.8;
          attrs = [
            s('db.system', 'redis'),
            s('db.operation.name', call.op),
            s('db.query.text', `${call.op} ${svc}:${call.op === 'GET' ? 'product' : 'cart'}:${(r() * 100_000) | 0}`),
            s('server.address', 'redis-master.cache'),
            i64('server.port', 6379),
            s('network.peer.address', `10.0.7.${(r() * 8) | 0}`),
            i64('db.redis.database_index', 0),
            b('cache.hit', hit),
            thread,
            s('user.id', userId),
          ];
        } else {
          kind = K.INTERNAL;
          attrs = [
            s('code.function', call.op.replace(/-/g, '_')),
            s('code.namespace', `${svc}.handlers`),
            i64('code.lineno', 10 + ((r() * 400) | 0)),
            i64('thread.id', (r() * 64) | 0),
            thread,
            i64('items.count', (r() * 20) | 0),
            b('feature.new_pricing', r() < 0.5),
            s('tenant.id', `tenant-${(r() * 50) | 0}`),
            s('user.id', userId),
            { key: 'sampling.ratio', value: { doubleValue: 1 } } as KeyValue,
          ];
        }
        const events: SpanEvent[] = [];
        if (failed) events.push(exceptionEvent(t + dur / 2n, svc));
        else if (r() < 0.14) events.push({ timeUnixNano: t + dur / 3n, name: call.kind === 'cache' ? 'cache.miss' : 'checkpoint', attributes: [s('message', `step ${(r() * 10) | 0} done`)], droppedAttributesCount: 0 });
        emit(svc, call.op, kind, parent, t, dur, attrs, events, failed);
        t += dur;
        return [t, failed];
      };

      const exceptionEvent = (time: bigint, svc: string): SpanEvent => {
        const [type, msg] = pick(EXCEPTIONS);
        return {
          timeUnixNano: time,
          name: 'exception',
          attributes: [s('exception.type', type), s('exception.message', msg), s('exception.stacktrace', stackTrace(r, type, svc)), b('exception.escaped', false)],
          droppedAttributesCount: 0,
        };
      };

      visit(flow, undefined, '', startNs);
      facts.endMs = Math.ceil(startMs) + 1000; // the data's own end (the last trace's start, and a bit)
      if (failAt > counter) failAt = -1;
      facts.traces++;
      facts.spans += spans.length;
      emitted += spans.length;
      if (facts.sampleTraceIds.length < 1000) facts.sampleTraceIds.push(traceId);
      else if (r() < 0.001) facts.sampleTraceIds[(r() * 1000) | 0] = traceId;
      if (facts.sampleUserIds.length < 100) facts.sampleUserIds.push(userId);
      else if (r() < 0.001) facts.sampleUserIds[(r() * 100) | 0] = userId;
      for (const { inst, span } of spans) {
        inst.spans.push(span);
        if (inst.spans.length >= requestSpans) {
          yield [{ resource: inst.resource, scopeSpans: [{ scope: { name: scopeName(inst.service), version: '0.52.0', attributes: [], droppedAttributesCount: 0 }, spans: inst.spans, schemaUrl: '' }], schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }];
          inst.spans = [];
        }
      }
    }
    for (const list of instances.values()) {
      for (const inst of list) {
        if (inst.spans.length === 0) continue;
        yield [{ resource: inst.resource, scopeSpans: [{ scope: { name: scopeName(inst.service), version: '0.52.0', attributes: [], droppedAttributesCount: 0 }, spans: inst.spans, schemaUrl: '' }], schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }];
        inst.spans = [];
      }
    }
  }

  return { requests, facts };
}

function scopeName(service: string): string {
  return `@opentelemetry/instrumentation-${service === 'frontend' ? 'http' : 'auto'}`;
}

/** For attribute-search queries: an AnyValue's string form for simple values. */
export function valueText(v: AnyValue): string {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return v.intValue.toString();
  return JSON.stringify(v);
}
