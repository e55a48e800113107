/**
 * The storage conformance suite: every `TraceStore` backend runs it before its own tests, e.g.
 *
 *   runStorageConformance({ name: 'memory', newStore: () => new MemoryStore({ maxTraces: 1000 }) });
 *
 * It registers node:test cases that exercise the whole contract of `api.ts` with generated OTLP
 * data. Every test gets a fresh store (`newStore()` → `start()` → … → `close()`), so tests never see
 * each other's data and may run in any order. Timestamps are about one hour before now (with odd
 * nanoseconds, which must survive), so backends with retention or time partitions accept them.
 *
 * Leniency, on purpose: the order of attributes in a list is not compared (columnar backends split
 * them by type), and the grouping of spans into ResourceSpans/ScopeSpans is free; the order of
 * events and links, every value, every id, every count is compared exactly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SpanKind,
  StatusCode,
  type AnyValue,
  type InstrumentationScope,
  type KeyValue,
  type Resource,
  type ResourceSpans,
  type Span,
  type SpanEvent,
  type SpanId,
  type SpanLink,
  type TraceId,
  type UnixNanos,
} from '../pdata/model.js';
import { Traces } from '../pdata/traces.js';
import {
  UnsupportedError,
  type FoundTraceId,
  type StorageContext,
  type TraceQuery,
  type TraceStore,
} from './api.js';

export interface StorageConformanceOptions {
  /** Shown in the suite's title, e.g. 'memory'. */
  name: string;
  /** A new, empty, not yet started store. Called once per test. */
  newStore: () => TraceStore | Promise<TraceStore>;
}

// ---------------------------------------------------------------------------------------------
// Data builders (exported for backends' own tests)
// ---------------------------------------------------------------------------------------------

export function newTraceId(): TraceId {
  return randomBytes(16).toString('hex') as TraceId;
}
export function newSpanId(): SpanId {
  return randomBytes(8).toString('hex') as SpanId;
}

const MS = 1_000_000n;
const SECOND = 1_000n * MS;

/** A base time about an hour ago, with odd nanoseconds. */
export function baseTime(): UnixNanos {
  return (BigInt(Date.now()) - 3_600_000n) * MS + 123_457n;
}

export function str(key: string, v: string): KeyValue {
  return { key, value: { stringValue: v } };
}
export function int(key: string, v: bigint | number): KeyValue {
  return { key, value: { intValue: BigInt(v) } };
}
export function dbl(key: string, v: number): KeyValue {
  return { key, value: { doubleValue: v } };
}
export function bool(key: string, v: boolean): KeyValue {
  return { key, value: { boolValue: v } };
}

export interface SpanSpec {
  traceId: TraceId;
  spanId?: SpanId;
  parentSpanId?: SpanId | '';
  name?: string;
  kind?: SpanKind;
  start: UnixNanos;
  /** Duration in nanoseconds (default 1 ms). */
  duration?: UnixNanos;
  attributes?: KeyValue[];
  events?: SpanEvent[];
  links?: SpanLink[];
  status?: Span['status'];
  traceState?: string;
  flags?: number;
}

export function makeSpan(p: SpanSpec): Span {
  return {
    traceId: p.traceId,
    spanId: p.spanId ?? newSpanId(),
    traceState: p.traceState ?? '',
    parentSpanId: p.parentSpanId ?? '',
    flags: p.flags ?? 1,
    name: p.name ?? 'op',
    kind: p.kind ?? SpanKind.INTERNAL,
    startTimeUnixNano: p.start,
    endTimeUnixNano: p.start + (p.duration ?? MS),
    attributes: p.attributes ?? [],
    droppedAttributesCount: 0,
    events: p.events ?? [],
    droppedEventsCount: 0,
    links: p.links ?? [],
    droppedLinksCount: 0,
    status: p.status ?? { code: StatusCode.UNSET, message: '' },
  };
}

export interface ResourceSpec {
  service: string;
  resourceAttributes?: KeyValue[];
  scope?: Partial<InstrumentationScope>;
}

/** One ResourceSpans with one ScopeSpans holding `spans`. */
export function makeResourceSpans(r: ResourceSpec, spans: Span[]): ResourceSpans {
  return {
    resource: { attributes: [str('service.name', r.service), ...(r.resourceAttributes ?? [])], droppedAttributesCount: 0 },
    scopeSpans: [
      {
        scope: {
          name: r.scope?.name ?? 'conformance',
          version: r.scope?.version ?? '1.0.0',
          attributes: r.scope?.attributes ?? [],
          droppedAttributesCount: r.scope?.droppedAttributesCount ?? 0,
        },
        spans,
        schemaUrl: '',
      },
    ],
    schemaUrl: '',
  };
}

export function traces(...rs: ResourceSpans[]): Traces {
  return Traces.fromResourceSpans(rs);
}

// ---------------------------------------------------------------------------------------------
// Reading helpers
// ---------------------------------------------------------------------------------------------

export async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of it) {
    assert.ok(Array.isArray(chunk), 'every chunk must be an array');
    out.push(...chunk);
  }
  return out;
}

interface FlatSpan {
  resource: Resource;
  resourceSchemaUrl: string;
  scope: InstrumentationScope;
  scopeSchemaUrl: string;
  span: Span;
}

export function flatten(td: Traces): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const rs of td.resourceSpans()) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        out.push({ resource: rs.resource, resourceSchemaUrl: rs.schemaUrl, scope: ss.scope, scopeSchemaUrl: ss.schemaUrl, span });
      }
    }
  }
  return out;
}

/** The trace ids in a Traces value (distinct, in order of appearance). */
export function traceIdsOf(td: Traces): TraceId[] {
  const ids: TraceId[] = [];
  for (const f of flatten(td)) if (!ids.includes(f.span.traceId)) ids.push(f.span.traceId);
  return ids;
}

/** Asserts that every element holds exactly one trace and no trace is split; returns id → spans. */
function byTrace(list: Traces[]): Map<TraceId, FlatSpan[]> {
  const m = new Map<TraceId, FlatSpan[]>();
  for (const td of list) {
    const ids = traceIdsOf(td);
    assert.equal(ids.length, 1, `each Traces element must hold exactly one trace, got ${ids.length}: ${ids.join(', ')}`);
    const id = ids[0]!;
    assert.ok(!m.has(id), `trace ${id} is split across several elements`);
    m.set(id, flatten(td));
  }
  return m;
}

/** Comparable, order-insensitive (for attribute lists and spans) canonical form. */
function canonValue(v: AnyValue): unknown {
  if ('bytesValue' in v) return { bytesValue: Buffer.from(v.bytesValue).toString('hex') };
  if ('arrayValue' in v) return { arrayValue: v.arrayValue.values.map(canonValue) };
  if ('kvlistValue' in v) return { kvlistValue: v.kvlistValue.values.map((kv) => ({ key: kv.key, value: canonValue(kv.value) })) };
  if ('stringValue' in v) return { stringValue: v.stringValue };
  if ('boolValue' in v) return { boolValue: v.boolValue };
  if ('intValue' in v) {
    assert.equal(typeof v.intValue, 'bigint', 'intValue must be a bigint');
    return { intValue: v.intValue };
  }
  if ('doubleValue' in v) {
    assert.equal(typeof v.doubleValue, 'number', 'doubleValue must be a number');
    return { doubleValue: v.doubleValue };
  }
  assert.deepEqual(Object.keys(v), [], `unknown AnyValue shape: ${JSON.stringify(Object.keys(v))}`);
  return {};
}
function canonAttrs(attrs: readonly KeyValue[]): unknown[] {
  return [...attrs]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((kv) => ({ key: kv.key, value: canonValue(kv.value) }));
}
function canonFlat(f: FlatSpan): unknown {
  const s = f.span;
  return {
    resource: { attributes: canonAttrs(f.resource.attributes), droppedAttributesCount: f.resource.droppedAttributesCount },
    resourceSchemaUrl: f.resourceSchemaUrl,
    scope: {
      name: f.scope.name,
      version: f.scope.version,
      attributes: canonAttrs(f.scope.attributes),
      droppedAttributesCount: f.scope.droppedAttributesCount,
    },
    scopeSchemaUrl: f.scopeSchemaUrl,
    span: {
      traceId: s.traceId,
      spanId: s.spanId,
      traceState: s.traceState,
      parentSpanId: s.parentSpanId,
      flags: s.flags,
      name: s.name,
      kind: s.kind,
      startTimeUnixNano: s.startTimeUnixNano,
      endTimeUnixNano: s.endTimeUnixNano,
      attributes: canonAttrs(s.attributes),
      droppedAttributesCount: s.droppedAttributesCount,
      events: s.events.map((e) => ({
        timeUnixNano: e.timeUnixNano,
        name: e.name,
        attributes: canonAttrs(e.attributes),
        droppedAttributesCount: e.droppedAttributesCount,
      })),
      droppedEventsCount: s.droppedEventsCount,
      links: s.links.map((l) => ({
        traceId: l.traceId,
        spanId: l.spanId,
        traceState: l.traceState,
        attributes: canonAttrs(l.attributes),
        droppedAttributesCount: l.droppedAttributesCount,
        flags: l.flags,
      })),
      droppedLinksCount: s.droppedLinksCount,
      status: { code: s.status.code, message: s.status.message },
    },
  };
}
function canonSpans(spans: FlatSpan[]): unknown[] {
  return [...spans].sort((a, b) => (a.span.spanId < b.span.spanId ? -1 : a.span.spanId > b.span.spanId ? 1 : 0)).map(canonFlat);
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

const ctx: StorageContext = { tenant: '' };

export function runStorageConformance(opts: StorageConformanceOptions): void {
  async function withStore(fn: (store: TraceStore) => Promise<void>): Promise<void> {
    const store = await opts.newStore();
    await store.start();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  async function getAll(store: TraceStore, ids: TraceId[], c: StorageContext = ctx): Promise<Map<TraceId, FlatSpan[]>> {
    return byTrace(await collect(store.getTraces(ids.map((traceId) => ({ traceId })), c)));
  }

  /** findTraces → ids in result order; also checks whole-trace elements. */
  async function find(store: TraceStore, q: TraceQuery, c: StorageContext = ctx): Promise<TraceId[]> {
    const list = await collect(store.findTraces(q, c));
    byTrace(list);
    return list.map((td) => traceIdsOf(td)[0]!);
  }

  /** findTraceIds, or undefined when the backend says it cannot. */
  async function findIds(store: TraceStore, q: TraceQuery, c: StorageContext = ctx): Promise<FoundTraceId[] | undefined> {
    if (!store.capabilities().findTraceIds) {
      await assert.rejects(collect(store.findTraceIds(q, c)), UnsupportedError, 'capabilities().findTraceIds is false: findTraceIds must throw UnsupportedError');
      return undefined;
    }
    return collect(store.findTraceIds(q, c));
  }

  /** Asserts find results as a set (order checked by dedicated tests). */
  async function assertFinds(store: TraceStore, q: TraceQuery, expected: TraceId[], what: string): Promise<void> {
    const got = await find(store, q);
    assert.deepEqual([...got].sort(), [...expected].sort(), `findTraces ${what}`);
    const ids = await findIds(store, q);
    if (ids) assert.deepEqual(ids.map((f) => f.traceId).sort(), [...expected].sort(), `findTraceIds ${what}`);
  }

  describe(`storage conformance: ${opts.name}`, () => {
    // -----------------------------------------------------------------------------------------
    describe('lifecycle', () => {
      test('close is idempotent and safe without start', async () => {
        const never = await opts.newStore();
        await never.close();
        await never.close();
        const store = await opts.newStore();
        await store.start();
        await store.close();
        await store.close();
      });

      test('capabilities are booleans', async () => {
        await withStore(async (store) => {
          const c = store.capabilities();
          for (const k of ['findTraceIds', 'dependencies', 'durable'] as const) assert.equal(typeof c[k], 'boolean', k);
        });
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('write and read', () => {
      test('round trip keeps every field', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const traceId = newTraceId();
          const otherTrace = newTraceId();
          const rootId = newSpanId();
          const childId = newSpanId();
          const allValues: KeyValue[] = [
            str('str', 'héllo ✓ "quoted"'),
            str('empty.str', ''),
            bool('bool.t', true),
            bool('bool.f', false),
            int('int', 123),
            int('int.neg', -42),
            int('int.big', 9007199254740993n),
            int('int.min', -9223372036854775808n),
            dbl('dbl', 72.5),
            dbl('dbl.frac', 0.1),
            dbl('dbl.neg', -1e-300),
            { key: 'bytes', value: { bytesValue: new Uint8Array([0, 1, 2, 254, 255]) } },
            {
              key: 'array',
              value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 7n }, { doubleValue: 1.5 }, { boolValue: true }] } },
            },
            {
              key: 'kvlist',
              value: {
                kvlistValue: {
                  values: [
                    { key: 'inner', value: { stringValue: 'x' } },
                    { key: 'nested', value: { arrayValue: { values: [{ intValue: 1n }] } } },
                  ],
                },
              },
            },
            { key: 'empty.value', value: {} },
          ];
          const root: Span = {
            traceId,
            spanId: rootId,
            traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
            parentSpanId: '',
            flags: 0x301,
            name: 'GET /api/round-trip',
            kind: SpanKind.SERVER,
            startTimeUnixNano: t0,
            endTimeUnixNano: t0 + 1_234_567_891n,
            attributes: allValues,
            droppedAttributesCount: 3,
            events: [
              { timeUnixNano: t0 + 10n, name: 'first event', attributes: [str('e.k', 'v'), int('e.n', 5)], droppedAttributesCount: 6 },
              { timeUnixNano: t0 + 5n, name: 'second event (earlier time, later in list)', attributes: [], droppedAttributesCount: 0 },
              { timeUnixNano: t0 + 20n, name: 'exception', attributes: allValues, droppedAttributesCount: 0 },
            ],
            droppedEventsCount: 4,
            links: [
              { traceId: otherTrace, spanId: newSpanId(), traceState: 'k=v', attributes: [str('l.k', 'v'), bool('l.b', false)], droppedAttributesCount: 7, flags: 1 },
              { traceId, spanId: childId, traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 },
            ],
            droppedLinksCount: 5,
            status: { code: StatusCode.ERROR, message: 'something failed' },
          };
          const kinds: SpanKind[] = [SpanKind.UNSPECIFIED, SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
          const kindSpans = kinds.map((kind, i) =>
            makeSpan({
              traceId,
              spanId: i === 0 ? childId : newSpanId(),
              parentSpanId: rootId,
              name: `kind-${kind}`,
              kind,
              start: t0 + BigInt(i + 1) * MS + 1n,
              duration: BigInt(i) * 1000n + 1n,
              status: i === 1 ? { code: StatusCode.OK, message: '' } : { code: StatusCode.UNSET, message: '' },
              flags: i,
            }),
          );
          const rs1: ResourceSpans = {
            resource: { attributes: [str('service.name', 'round-trip'), ...allValues], droppedAttributesCount: 1 },
            scopeSpans: [
              {
                scope: { name: 'scope-a', version: '2.3.4', attributes: [str('scope.k', 'v'), int('scope.n', 9)], droppedAttributesCount: 2 },
                spans: [root, ...kindSpans.slice(0, 3)],
                schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
              },
              {
                scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
                spans: kindSpans.slice(3),
                schemaUrl: '',
              },
            ],
            schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
          };
          const rs2 = makeResourceSpans(
            { service: 'round-trip-2', resourceAttributes: [str('host.name', 'h2')], scope: { name: 's2', version: '' } },
            [makeSpan({ traceId, parentSpanId: rootId, name: 'other resource', kind: SpanKind.CLIENT, start: t0 + 7n * MS })],
          );
          const written = traces(rs1, rs2);
          await store.writeTraces(written, ctx);
          const got = await getAll(store, [traceId]);
          assert.equal(got.size, 1, 'the trace is found');
          const spans = got.get(traceId)!;
          assert.equal(spans.length, written.spanCount, 'every span is returned');
          assert.deepEqual(canonSpans(spans), canonSpans(flatten(written)));
        });
      });

      test('spans of one trace written in separate batches join', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const traceId = newTraceId();
          const root = makeSpan({ traceId, name: 'root', kind: SpanKind.SERVER, start: t0, duration: 50n * MS });
          const a = makeSpan({ traceId, parentSpanId: root.spanId, name: 'a', kind: SpanKind.CLIENT, start: t0 + MS });
          const b = makeSpan({ traceId, parentSpanId: a.spanId, name: 'b', kind: SpanKind.SERVER, start: t0 + 2n * MS });
          const c = makeSpan({ traceId, parentSpanId: b.spanId, name: 'c', start: t0 + 3n * MS });
          const batches = [
            traces(makeResourceSpans({ service: 'frontend' }, [root])),
            traces(makeResourceSpans({ service: 'backend' }, [b]), makeResourceSpans({ service: 'unrelated' }, [makeSpan({ traceId: newTraceId(), start: t0 })])),
            traces(makeResourceSpans({ service: 'frontend' }, [a]), makeResourceSpans({ service: 'backend' }, [c])),
          ];
          for (const batch of batches) await store.writeTraces(batch, ctx);
          const got = await getAll(store, [traceId]);
          const spans = got.get(traceId);
          assert.ok(spans, 'trace found');
          assert.deepEqual(spans.map((f) => f.span.name).sort(), ['a', 'b', 'c', 'root']);
          const expected = [
            ...flatten(batches[0]!),
            ...flatten(batches[1]!).filter((f) => f.span.traceId === traceId),
            ...flatten(batches[2]!),
          ];
          assert.deepEqual(canonSpans(spans), canonSpans(expected));
          // A search finds the whole trace, not only the matching span or batch.
          const found = await collect(store.findTraces({ serviceName: 'backend', operationName: 'c', searchDepth: 10 }, ctx));
          const whole = byTrace(found).get(traceId);
          assert.ok(whole, 'findTraces finds the joined trace');
          assert.equal(whole.length, 4, 'findTraces returns the whole trace');
        });
      });

      test('getTraces: several ids, unknown ids skipped, time hints', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const ids = [newTraceId(), newTraceId(), newTraceId()];
          await store.writeTraces(
            traces(makeResourceSpans({ service: 's' }, ids.map((traceId, i) => makeSpan({ traceId, name: `t${i}`, start: t0 + BigInt(i) * SECOND })))),
            ctx,
          );
          assert.deepEqual([...(await getAll(store, [newTraceId()])).keys()], [], 'an unknown id yields nothing');
          assert.deepEqual([...(await getAll(store, [])).keys()], [], 'no ids yields nothing');
          const unknown = newTraceId();
          const got = await getAll(store, [ids[0]!, unknown, ids[2]!]);
          assert.deepEqual([...got.keys()].sort(), [ids[0]!, ids[2]!].sort(), 'known ids found, unknown skipped');
          assert.equal(got.get(ids[0]!)![0]!.span.name, 't0');
          assert.equal(got.get(ids[2]!)![0]!.span.name, 't2');
          // Hints that cover the trace never hide it.
          const hinted = byTrace(
            await collect(store.getTraces([{ traceId: ids[1]!, start: t0, end: t0 + 3n * SECOND }], ctx)),
          );
          assert.deepEqual([...hinted.keys()], [ids[1]!], 'time hints covering the trace still find it');
        });
      });

      test('an empty batch is accepted', async () => {
        await withStore(async (store) => {
          await store.writeTraces(Traces.empty, ctx);
          assert.deepEqual(await store.getServices(ctx), []);
        });
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('services and operations', () => {
      test('services are distinct and sorted', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          assert.deepEqual(await store.getServices(ctx), [], 'an empty store has no services');
          const traceId = newTraceId();
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'zeta' }, [makeSpan({ traceId, start: t0 })]),
              makeResourceSpans({ service: 'alpha' }, [makeSpan({ traceId, start: t0 })]),
            ),
            ctx,
          );
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'mike' }, [makeSpan({ traceId: newTraceId(), start: t0 })]),
              makeResourceSpans({ service: 'alpha' }, [makeSpan({ traceId: newTraceId(), start: t0 })]),
            ),
            ctx,
          );
          assert.deepEqual(await store.getServices(ctx), ['alpha', 'mike', 'zeta']);
        });
      });

      test('operations by service and by span kind', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const traceId = newTraceId();
          const sp = (name: string, kind: SpanKind) => makeSpan({ traceId, name, kind, start: t0 });
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'svc' }, [
                sp('query', SpanKind.INTERNAL),
                sp('GET /b', SpanKind.SERVER),
                sp('GET /a', SpanKind.SERVER),
                sp('GET /a', SpanKind.INTERNAL),
                sp('GET /a', SpanKind.SERVER),
                sp('GET /a', SpanKind.PRODUCER),
                sp('send', SpanKind.CLIENT),
                sp('send', SpanKind.CONSUMER),
              ]),
              makeResourceSpans({ service: 'other' }, [sp('other-op', SpanKind.SERVER), sp('GET /a', SpanKind.CLIENT)]),
            ),
            ctx,
          );
          // By name, then by kind name (producer before server, although PRODUCER is 4 and SERVER 2).
          assert.deepEqual(await store.getOperations({ serviceName: 'svc' }, ctx), [
            { name: 'GET /a', spanKind: 'internal' },
            { name: 'GET /a', spanKind: 'producer' },
            { name: 'GET /a', spanKind: 'server' },
            { name: 'GET /b', spanKind: 'server' },
            { name: 'query', spanKind: 'internal' },
            { name: 'send', spanKind: 'client' },
            { name: 'send', spanKind: 'consumer' },
          ]);
          assert.deepEqual(await store.getOperations({ serviceName: 'svc', spanKind: 'server' }, ctx), [
            { name: 'GET /a', spanKind: 'server' },
            { name: 'GET /b', spanKind: 'server' },
          ]);
          assert.deepEqual(await store.getOperations({ serviceName: 'svc', spanKind: 'consumer' }, ctx), [{ name: 'send', spanKind: 'consumer' }]);
          assert.deepEqual(await store.getOperations({ serviceName: 'svc', spanKind: 'producer' }, ctx), [{ name: 'GET /a', spanKind: 'producer' }]);
          assert.deepEqual(await store.getOperations({ serviceName: 'svc', spanKind: 'unspecified' }, ctx), []);
          assert.deepEqual(await store.getOperations({ serviceName: 'other' }, ctx), [
            { name: 'GET /a', spanKind: 'client' },
            { name: 'other-op', spanKind: 'server' },
          ]);
          assert.deepEqual(await store.getOperations({ serviceName: 'nope' }, ctx), []);
        });
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('findTraces', () => {
      test('by service and by operation', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const [t1, t2, t3] = [newTraceId(), newTraceId(), newTraceId()];
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'frontend' }, [makeSpan({ traceId: t1, name: 'GET /', start: t0 }), makeSpan({ traceId: t2, name: 'POST /', start: t0 })]),
              makeResourceSpans({ service: 'backend' }, [makeSpan({ traceId: t2, name: 'GET /', start: t0 }), makeSpan({ traceId: t3, name: 'work', start: t0 })]),
            ),
            ctx,
          );
          await assertFinds(store, { serviceName: 'frontend', searchDepth: 10 }, [t1, t2], 'by service frontend');
          await assertFinds(store, { serviceName: 'backend', searchDepth: 10 }, [t2, t3], 'by service backend');
          await assertFinds(store, { serviceName: 'nope', searchDepth: 10 }, [], 'by unknown service');
          await assertFinds(store, { serviceName: 'frontend', operationName: 'GET /', searchDepth: 10 }, [t1], 'service + operation on one span');
          await assertFinds(store, { serviceName: 'backend', operationName: 'POST /', searchDepth: 10 }, [], 'operation of another service does not match');
          await assertFinds(store, { operationName: 'GET /', searchDepth: 10 }, [t1, t2], 'operation without service');
        });
      });

      test('attributes: typed values match through their string form', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const ids = { int: newTraceId(), dbl: newTraceId(), bool: newTraceId(), str: newTraceId(), decoy: newTraceId() };
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'svc' }, [
                makeSpan({ traceId: ids.int, start: t0, attributes: [int('http.status_code', 123)] }),
                makeSpan({ traceId: ids.dbl, start: t0, attributes: [dbl('temperature', 72.5)] }),
                makeSpan({ traceId: ids.bool, start: t0, attributes: [bool('error', true)] }),
                makeSpan({ traceId: ids.str, start: t0, attributes: [str('http.method', 'GET')] }),
                makeSpan({
                  traceId: ids.decoy,
                  start: t0,
                  attributes: [int('http.status_code', 124), dbl('temperature', 72.25), bool('error', false), str('http.method', 'get')],
                }),
              ]),
            ),
            ctx,
          );
          const q = (k: string, v: string): TraceQuery => ({ serviceName: 'svc', attributes: new Map([[k, v]]), searchDepth: 10 });
          await assertFinds(store, q('http.status_code', '123'), [ids.int], 'int 123');
          await assertFinds(store, q('temperature', '72.5'), [ids.dbl], 'double 72.5');
          await assertFinds(store, q('error', 'true'), [ids.bool], 'bool true');
          await assertFinds(store, q('error', 'false'), [ids.decoy], 'bool false');
          await assertFinds(store, q('http.method', 'GET'), [ids.str], 'string (case-sensitive)');
          await assertFinds(store, q('http.method', 'GE'), [], 'no substring match');
          await assertFinds(store, q('no.such.key', 'GET'), [], 'unknown key');
          await assertFinds(store, { attributes: new Map([['temperature', '72.5']]), searchDepth: 10 }, [ids.dbl], 'attribute without service');
        });
      });

      test('attributes are found on the span, its events, resource, scope and links', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const ids = { span: newTraceId(), event: newTraceId(), resource: newTraceId(), scope: newTraceId(), link: newTraceId() };
          const key = 'where';
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'svc' }, [
                makeSpan({ traceId: ids.span, start: t0, attributes: [str(key, 'span')] }),
                makeSpan({
                  traceId: ids.event,
                  start: t0,
                  events: [{ timeUnixNano: t0, name: 'ev', attributes: [str(key, 'event'), int('n', 7)], droppedAttributesCount: 0 }],
                }),
                makeSpan({
                  traceId: ids.link,
                  start: t0,
                  links: [{ traceId: newTraceId(), spanId: newSpanId(), traceState: '', attributes: [str(key, 'link'), int('n', 8)], droppedAttributesCount: 0, flags: 0 }],
                }),
              ]),
              makeResourceSpans({ service: 'svc', resourceAttributes: [str(key, 'resource'), int('n', 9)] }, [makeSpan({ traceId: ids.resource, start: t0 })]),
              makeResourceSpans({ service: 'svc', scope: { name: 'scoped', attributes: [str(key, 'scope'), int('n', 10)] } }, [
                makeSpan({ traceId: ids.scope, start: t0 }),
              ]),
            ),
            ctx,
          );
          for (const where of ['span', 'event', 'resource', 'scope', 'link'] as const) {
            const expected = [ids[where]];
            await assertFinds(store, { serviceName: 'svc', attributes: new Map([[key, where]]), searchDepth: 10 }, expected, `attribute on the ${where}`);
            await assertFinds(store, { attributes: new Map([[key, where]]), searchDepth: 10 }, expected, `attribute on the ${where}, no service`);
          }
          await assertFinds(store, { attributes: new Map([['n', '7']]), searchDepth: 10 }, [ids.event], 'int attribute on an event');
          await assertFinds(store, { attributes: new Map([['n', '8']]), searchDepth: 10 }, [ids.link], 'int attribute on a link');
          await assertFinds(store, { attributes: new Map([['n', '9']]), searchDepth: 10 }, [ids.resource], 'int attribute on a resource');
          await assertFinds(store, { attributes: new Map([['n', '10']]), searchDepth: 10 }, [ids.scope], 'int attribute on a scope');
        });
      });

      test('all attributes must match on one span', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const split = newTraceId();
          const together = newTraceId();
          const viaResource = newTraceId();
          const viaEvent = newTraceId();
          const splitRoot = newSpanId();
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'svc' }, [
                makeSpan({ traceId: split, spanId: splitRoot, start: t0, attributes: [str('a', '1')] }),
                makeSpan({ traceId: split, parentSpanId: splitRoot, start: t0 + MS, attributes: [int('b', 2)] }),
                makeSpan({ traceId: together, start: t0, attributes: [str('a', '1'), int('b', 2)] }),
                makeSpan({
                  traceId: viaEvent,
                  start: t0,
                  attributes: [str('a', '1')],
                  events: [{ timeUnixNano: t0, name: 'e', attributes: [int('b', 2)], droppedAttributesCount: 0 }],
                }),
              ]),
              makeResourceSpans({ service: 'svc', resourceAttributes: [str('a', '1')] }, [makeSpan({ traceId: viaResource, start: t0, attributes: [int('b', 2)] })]),
            ),
            ctx,
          );
          const attributes = new Map([
            ['a', '1'],
            ['b', '2'],
          ]);
          await assertFinds(store, { serviceName: 'svc', attributes, searchDepth: 10 }, [together, viaResource, viaEvent], 'two attributes on one span');
          await assertFinds(store, { attributes, searchDepth: 10 }, [together, viaResource, viaEvent], 'two attributes on one span, no service');
          await assertFinds(store, { serviceName: 'svc', attributes: new Map([['a', '1'], ['b', '3']]), searchDepth: 10 }, [], 'one of two attributes differs');
        });
      });

      test('service, operation and attributes must match on one span', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const split = newTraceId();
          const ok = newTraceId();
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'frontend' }, [makeSpan({ traceId: split, name: 'GET', start: t0 }), makeSpan({ traceId: ok, name: 'GET', start: t0, attributes: [str('k', 'v')] })]),
              makeResourceSpans({ service: 'backend' }, [makeSpan({ traceId: split, name: 'POST', start: t0, attributes: [str('k', 'v')] })]),
            ),
            ctx,
          );
          await assertFinds(store, { serviceName: 'frontend', attributes: new Map([['k', 'v']]), searchDepth: 10 }, [ok], 'service + attribute');
          await assertFinds(store, { operationName: 'GET', attributes: new Map([['k', 'v']]), searchDepth: 10 }, [ok], 'operation + attribute');
          await assertFinds(store, { serviceName: 'backend', operationName: 'GET', searchDepth: 10 }, [], 'service + operation');
        });
      });

      test('duration min/max apply to the matching span', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const [short, mid, long, split] = [newTraceId(), newTraceId(), newTraceId(), newTraceId()];
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'svc' }, [
                makeSpan({ traceId: short, name: 'op', start: t0, duration: 1n * MS }),
                makeSpan({ traceId: mid, name: 'op', start: t0, duration: 10n * MS }),
                makeSpan({ traceId: long, name: 'op', start: t0, duration: 100n * MS }),
                // The long span of `split` has another name: 'op' is short there.
                makeSpan({ traceId: split, name: 'op', start: t0, duration: 1n * MS }),
                makeSpan({ traceId: split, name: 'other', start: t0, duration: 100n * MS, attributes: [str('k', 'v')] }),
              ]),
              makeResourceSpans({ service: 'other' }, [makeSpan({ traceId: short, name: 'slow', start: t0, duration: 500n * MS })]),
            ),
            ctx,
          );
          const q = (extra: Partial<TraceQuery>): TraceQuery => ({ serviceName: 'svc', operationName: 'op', searchDepth: 10, ...extra });
          await assertFinds(store, q({ durationMin: 10n * MS }), [mid, long], 'durationMin inclusive');
          await assertFinds(store, q({ durationMax: 10n * MS }), [short, mid, split], 'durationMax inclusive');
          await assertFinds(store, q({ durationMin: 5n * MS, durationMax: 50n * MS }), [mid], 'min and max');
          await assertFinds(store, q({ durationMin: 101n * MS }), [], 'above every span');
          await assertFinds(store, { serviceName: 'svc', durationMin: 50n * MS, searchDepth: 10 }, [long, split], 'service only');
          await assertFinds(store, { serviceName: 'svc', attributes: new Map([['k', 'v']]), durationMax: 50n * MS, searchDepth: 10 }, [], 'attribute + duration on one span');
          await assertFinds(store, { durationMin: 400n * MS, searchDepth: 10 }, [short], 'without service');
        });
      });

      test('start-time bounds', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const [early, middle, late, spread] = [newTraceId(), newTraceId(), newTraceId(), newTraceId()];
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'svc' }, [
                makeSpan({ traceId: early, start: t0 }),
                makeSpan({ traceId: middle, start: t0 + 10n * SECOND }),
                makeSpan({ traceId: late, start: t0 + 20n * SECOND }),
                // `spread` has a span in each region but its 'inner' span only in the middle.
                makeSpan({ traceId: spread, name: 'edge', start: t0 - 60n * SECOND, duration: 120n * SECOND }),
                makeSpan({ traceId: spread, name: 'inner', start: t0 + 12n * SECOND }),
              ]),
            ),
            ctx,
          );
          const q = (extra: Partial<TraceQuery>): TraceQuery => ({ serviceName: 'svc', searchDepth: 10, ...extra });
          await assertFinds(store, q({ startTimeMin: t0 + 5n * SECOND, startTimeMax: t0 + 15n * SECOND }), [middle, spread], 'window');
          await assertFinds(store, q({ startTimeMin: t0 + 10n * SECOND, startTimeMax: t0 + 10n * SECOND }), [middle], 'bounds inclusive');
          await assertFinds(store, q({ startTimeMin: t0 + 15n * SECOND }), [late], 'min only');
          await assertFinds(store, q({ startTimeMax: t0 - 1n }), [spread], 'max only');
          await assertFinds(store, q({ operationName: 'edge', startTimeMin: t0 + 5n * SECOND, startTimeMax: t0 + 15n * SECOND }), [], 'bounds apply to the matching span');
          await assertFinds(store, { startTimeMin: t0 + 19n * SECOND, searchDepth: 10 }, [late], 'without service');
        });
      });

      test('newest first, searchDepth, same order in findTraceIds', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const ids = Array.from({ length: 6 }, () => newTraceId());
          // Trace i starts at t0 + i s; written in a scrambled order, one batch each.
          for (const i of [3, 0, 5, 1, 4, 2]) {
            await store.writeTraces(traces(makeResourceSpans({ service: 'svc' }, [makeSpan({ traceId: ids[i]!, start: t0 + BigInt(i) * SECOND })])), ctx);
          }
          // Trace 0 gets a late span of another service: newest by 'other', oldest by 'svc'.
          await store.writeTraces(
            traces(makeResourceSpans({ service: 'other' }, [makeSpan({ traceId: ids[0]!, start: t0 + 60n * SECOND })])),
            ctx,
          );
          const newestFirst = [...ids].reverse();
          assert.deepEqual(await find(store, { serviceName: 'svc', searchDepth: 10 }), newestFirst, 'newest first');
          assert.deepEqual(await find(store, { serviceName: 'svc', searchDepth: 3 }), newestFirst.slice(0, 3), 'searchDepth keeps the newest');
          assert.deepEqual(await find(store, { serviceName: 'svc', searchDepth: 1 }), newestFirst.slice(0, 1), 'searchDepth 1');
          assert.deepEqual(await find(store, { searchDepth: 2 }), [ids[0]!, ids[5]!], 'without service, by latest matching span');
          const found = await findIds(store, { serviceName: 'svc', searchDepth: 4 });
          if (found) {
            assert.deepEqual(found.map((f) => f.traceId), newestFirst.slice(0, 4), 'findTraceIds in the same order');
            for (const f of found) {
              const i = ids.indexOf(f.traceId);
              // When given, the bounds must cover every span start of the trace (they are used as getTraces hints).
              const first = i === 0 ? t0 : t0 + BigInt(i) * SECOND;
              const last = i === 0 ? t0 + 60n * SECOND : first;
              if (f.start !== undefined) assert.ok(f.start <= first, `start hint ${f.start} after the first span ${first}`);
              if (f.end !== undefined) assert.ok(f.end >= last, `end hint ${f.end} before the last span ${last}`);
              const back = byTrace(await collect(store.getTraces([{ traceId: f.traceId, start: f.start, end: f.end }], ctx)));
              assert.ok(back.has(f.traceId), 'getTraces with the returned hints finds the trace');
            }
          }
          const allIds = await findIds(store, { searchDepth: 10 });
          if (allIds) assert.deepEqual(allIds.map((f) => f.traceId), await find(store, { searchDepth: 10 }), 'findTraceIds = findTraces order');
        });
      });

      test('results are whole traces', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const traceId = newTraceId();
          const root = makeSpan({ traceId, name: 'root', start: t0 });
          await store.writeTraces(
            traces(
              makeResourceSpans({ service: 'a' }, [root]),
              makeResourceSpans({ service: 'b' }, [makeSpan({ traceId, parentSpanId: root.spanId, name: 'leaf', start: t0 + MS, attributes: [str('k', 'v')] })]),
            ),
            ctx,
          );
          const list = await collect(store.findTraces({ serviceName: 'b', attributes: new Map([['k', 'v']]), searchDepth: 5 }, ctx));
          const got = byTrace(list).get(traceId);
          assert.ok(got);
          assert.deepEqual(got.map((f) => f.span.name).sort(), ['leaf', 'root']);
        });
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('dependencies', () => {
      test('parent/child across services, call counts, window', async (t) => {
        await withStore(async (store) => {
          if (!store.capabilities().dependencies) {
            await assert.rejects(store.getDependencies({ start: 0n, end: baseTime() }, ctx), UnsupportedError);
            t.diagnostic('capabilities().dependencies is false: only UnsupportedError checked');
            return;
          }
          const t0 = baseTime();
          const call = async (start: UnixNanos) => {
            const traceId = newTraceId();
            const fe = makeSpan({ traceId, name: 'GET /', kind: SpanKind.SERVER, start });
            const feInternal = makeSpan({ traceId, parentSpanId: fe.spanId, name: 'render', start: start + 1n });
            const feClient = makeSpan({ traceId, parentSpanId: feInternal.spanId, name: 'call backend', kind: SpanKind.CLIENT, start: start + 2n });
            const be = makeSpan({ traceId, parentSpanId: feClient.spanId, name: 'handle', kind: SpanKind.SERVER, start: start + 3n });
            const be2 = makeSpan({ traceId, parentSpanId: be.spanId, name: 'cache', start: start + 4n });
            const db = makeSpan({ traceId, parentSpanId: be2.spanId, name: 'SELECT', kind: SpanKind.SERVER, start: start + 5n });
            // Each service exports on its own, as in real life: parent and child arrive in different batches.
            await store.writeTraces(traces(makeResourceSpans({ service: 'backend' }, [be, be2])), ctx);
            await store.writeTraces(traces(makeResourceSpans({ service: 'frontend' }, [fe, feInternal, feClient])), ctx);
            await store.writeTraces(traces(makeResourceSpans({ service: 'db' }, [db])), ctx);
            return traceId;
          };
          await call(t0);
          await call(t0 + SECOND);
          await call(t0 - 2n * 3600n * SECOND); // outside the window below
          // A db span whose parent never arrived makes no link.
          const orphanTrace = newTraceId();
          await store.writeTraces(
            traces(makeResourceSpans({ service: 'db' }, [makeSpan({ traceId: orphanTrace, parentSpanId: newSpanId(), start: t0 })])),
            ctx,
          );
          const sortLinks = (l: { parent: string; child: string; callCount: number }[]) =>
            [...l].map((x) => ({ parent: x.parent, child: x.child, callCount: x.callCount })).sort((a, b) => (a.parent + a.child < b.parent + b.child ? -1 : 1));
          const win = await store.getDependencies({ start: t0 - 3600n * SECOND, end: t0 + 60n * SECOND }, ctx);
          assert.deepEqual(sortLinks(win), [
            { parent: 'backend', child: 'db', callCount: 2 },
            { parent: 'frontend', child: 'backend', callCount: 2 },
          ]);
          const all = await store.getDependencies({ start: t0 - 3n * 3600n * SECOND, end: t0 + 60n * SECOND }, ctx);
          assert.deepEqual(sortLinks(all), [
            { parent: 'backend', child: 'db', callCount: 3 },
            { parent: 'frontend', child: 'backend', callCount: 3 },
          ]);
          const none = await store.getDependencies({ start: t0 + 10n * SECOND, end: t0 + 60n * SECOND }, ctx);
          assert.deepEqual(none, [], 'a window without spans has no links');
        });
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('tenants', () => {
      test('data of one tenant is invisible to others', async () => {
        await withStore(async (store) => {
          const t0 = baseTime();
          const a: StorageContext = { tenant: 'tenant-a' };
          const b: StorageContext = { tenant: 'tenant-b' };
          const ta = newTraceId();
          const tb = newTraceId();
          const shared = newTraceId(); // the same trace id written by two tenants stays apart
          const write = async (c: StorageContext, service: string, traceId: TraceId) => {
            const parent = makeSpan({ traceId, name: `${service}-op`, kind: SpanKind.SERVER, start: t0, attributes: [str('tenant', c.tenant)] });
            await store.writeTraces(
              traces(
                makeResourceSpans({ service }, [parent]),
                makeResourceSpans({ service: `${service}-child` }, [makeSpan({ traceId, parentSpanId: parent.spanId, name: 'child', kind: SpanKind.SERVER, start: t0 + 1n })]),
              ),
              c,
            );
          };
          await write(a, 'svc-a', ta);
          await write(b, 'svc-b', tb);
          await write(a, 'svc-a', shared);
          await write(b, 'svc-b', shared);

          assert.deepEqual(await store.getServices(a), ['svc-a', 'svc-a-child']);
          assert.deepEqual(await store.getServices(b), ['svc-b', 'svc-b-child']);
          assert.deepEqual(await store.getServices(ctx), [], 'the default tenant sees nothing');
          assert.deepEqual(await store.getOperations({ serviceName: 'svc-b' }, a), []);
          assert.deepEqual(await store.getOperations({ serviceName: 'svc-a' }, a), [{ name: 'svc-a-op', spanKind: 'server' }]);

          const ga = await getAll(store, [ta, tb, shared], a);
          assert.deepEqual([...ga.keys()].sort(), [ta, shared].sort());
          for (const spans of ga.values()) {
            assert.equal(spans.length, 2, 'only the tenant\'s own spans');
            for (const f of spans) assert.ok(f.resource.attributes.some((kv) => kv.key === 'service.name' && 'stringValue' in kv.value && kv.value.stringValue.startsWith('svc-a')));
          }
          assert.deepEqual([...(await getAll(store, [ta, tb, shared], ctx)).keys()], []);

          assert.deepEqual((await find(store, { searchDepth: 10 }, b)).sort(), [tb, shared].sort());
          assert.deepEqual(await find(store, { serviceName: 'svc-a', searchDepth: 10 }, b), []);
          assert.deepEqual(await find(store, { attributes: new Map([['tenant', 'tenant-a']]), searchDepth: 10 }, b), []);
          assert.deepEqual(await find(store, { searchDepth: 10 }, ctx), []);
          const idsB = await findIds(store, { searchDepth: 10 }, b);
          if (idsB) assert.deepEqual(idsB.map((f) => f.traceId).sort(), [tb, shared].sort());

          if (store.capabilities().dependencies) {
            const win = { start: t0 - SECOND, end: t0 + SECOND };
            assert.deepEqual(
              (await store.getDependencies(win, a)).map((l) => ({ parent: l.parent, child: l.child, callCount: l.callCount })),
              [{ parent: 'svc-a', child: 'svc-a-child', callCount: 2 }],
            );
            assert.deepEqual(await store.getDependencies(win, ctx), []);
          }
        });
      });
    });
  });
}
