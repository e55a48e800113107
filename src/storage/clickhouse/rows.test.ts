import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateResourceSpans } from '../../pdata/testdata/generate.js';
import { encodeTraceRequestProto } from '../../pdata/proto-encode.js';
import { decodeTraceRequestProto } from '../../pdata/proto-view.js';
import { Traces } from '../../pdata/traces.js';
import type { ResourceSpans } from '../../pdata/model.js';
import { MAX_NS, ROW_STRUCTURE, RowDecoder, compactRows, encodeRows, groupRows, newDictionaries, type DecodedRow, type EncodedRows } from './rows.js';
import { encodeTraces } from './writer.js';
import { BinOut, parseStructure, rowBinaryToJson } from './rowbinary.js';
import { baseTime, bool, dbl, int, makeResourceSpans, makeSpan, newTraceId, str } from '../conformance.js';
import { newTestStore, withStore } from './testutil.js';

const body = (e: EncodedRows): Buffer => Buffer.concat(e.body);
/** The rows as the statement form carries them (JSONCompactEachRow lines). */
const text = (e: EncodedRows): string => rowBinaryToJson(body(e), parseStructure(ROW_STRUCTURE));

function sameRows(rs: ResourceSpans[], tenant: string): void {
  const a = encodeRows(rs, tenant, newDictionaries());
  const b = encodeTraces(decodeTraceRequestProto(encodeTraceRequestProto(rs)).traces, tenant, newDictionaries());
  assert.equal(b.rows, a.rows);
  assert.deepEqual(body(b), body(a));
  assert.equal(b.bytes, body(b).length);
  assert.deepEqual([...b.owners], [...a.owners]);
  assert.deepEqual([...b.keysets], [...a.keysets]);
  assert.deepEqual([...b.attrKeys].sort(), [...a.attrKeys].sort());
}

describe('clickhouse row encoding', () => {
  test('the protobuf fast path writes exactly what the object path writes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      sameRows(generateResourceSpans({ spans: 40, everything: seed % 2 === 0, seed, services: 3 }), seed % 3 === 0 ? 'tenant-$x' : '');
    }
  });

  test('edge values: unicode, quotes, dollars, empty values, odd doubles, big ints', () => {
    const t0 = baseTime();
    const traceId = newTraceId();
    const rs = [
      makeResourceSpans({ service: 'svc $$ "q"', resourceAttributes: [int('pid', -1), dbl('d', -0)] }, [
        makeSpan({
          traceId,
          name: 'naïve $$ \\ "name"\n',
          start: t0,
          attributes: [
            str('s', 'héllo ✓ 🙂 $$x$$ \u0000 \u001f \\'),
            str('', 'empty key'),
            int('i', -9223372036854775808n),
            // around the int fast path's bound (7 varint bytes, below 2^49)
            int('i0', 0n),
            int('i1', 127n),
            int('i2', 128n),
            int('i48', 2n ** 48n),
            int('i49m', 2n ** 49n - 1n),
            int('i49', 2n ** 49n),
            int('imax', 9223372036854775807n),
            int('ineg', -1n),
            bool('t', true),
            dbl('nan', NaN),
            dbl('inf', Infinity),
            dbl('negzero', -0),
            dbl('tiny', 5e-324),
            bool('b', false),
            { key: 'empty', value: {} },
            { key: 'bytes', value: { bytesValue: new Uint8Array([0, 255, 36, 36]) } },
            { key: 'arr$', value: { arrayValue: { values: [{ stringValue: '$$' }, { doubleValue: 1 }, { intValue: 1n }] } } },
          ],
          status: { code: 2, message: 'bad $$ "x"' },
          traceState: 'a=$$',
          flags: 0xffffffff,
        }),
        makeSpan({ traceId, start: 9_300_000_000_000_000_000n, duration: 1n }),
        { ...makeSpan({ traceId, start: t0 }), endTimeUnixNano: t0 - 5n },
      ]),
    ];
    sameRows(rs, '');
    const json = text(encodeRows(rs, '', newDictionaries()));
    assert.ok(!json.includes('$'), 'no raw $ in the statement form (the rows travel inside a $$ heredoc)');
    assert.equal(compactRows<unknown[]>(json).length, rs[0]!.scopeSpans[0]!.spans.length);
  });

  test('times and durations around the bounds of the 64-bit writer (hi and lo halves, borrows, BigInt beyond 2^53)', () => {
    const traceId = newTraceId();
    const starts = [0n, 9n, 10n, 2n ** 53n - 1n, 2n ** 53n, 10n ** 18n, 10n ** 18n + 1n, 10n ** 18n + 999_999_999n, 1_700_000_000_000_000_007n, 2n ** 63n - 1n];
    const durations = [0n, 1n, 999_999_999n, 1_000_000_000n, 2n ** 53n - 1n];
    const spans = starts.flatMap((start) => durations.map((duration) => makeSpan({ traceId, start, duration })));
    const rs = [makeResourceSpans({ service: 'digits' }, spans)];
    sameRows(rs, '');
    // The statement form writes them in decimal (start and duration: columns 2 and 8 of ROW_STRUCTURE).
    const json = compactRows<string[]>(text(encodeRows(rs, '', newDictionaries())));
    const want = spans.map((sp) => [String(sp.startTimeUnixNano), String(sp.endTimeUnixNano - sp.startTimeUnixNano)]);
    assert.deepEqual(json.map((r) => [r[2], r[8]]), want);
  });

  test('the statement form reads back every column type of the rows, and refuses truncated rows', () => {
    const types = parseStructure('a UInt8, b UInt32, c Int64, d UInt64, e String, f Array(String), g Array(Map(String, String))');
    const row = Buffer.from([
      ...[255],
      ...[1, 2, 0, 0],
      ...[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      ...[3, 0x24, 0x22, 0x0a],
      ...[2, 1, 0x61, 0],
      ...[1, 1, 1, 0x6b, 2, 0xc3, 0xa9],
    ]);
    assert.equal(rowBinaryToJson(Buffer.concat([row, row]), types), '[255,513,"-2","18446744073709551615","\\u0024\\"\\n",["a",""],[{"k":"é"}]]\n'.repeat(2));
    for (const cut of [1, 5, 20, row.length - 1]) assert.throws(() => rowBinaryToJson(row.subarray(0, cut), types), /truncated RowBinary rows/);
    assert.throws(() => parseStructure('a Float64'), /unsupported RowBinary type/);
    // A count written before its items (padded to three LEB128 bytes): the engine reads it as the
    // same number (every INSERT of the store's tests relies on it), and so does the statement form.
    const out = new BinOut(16);
    const at = out.reserve(3);
    out.str('a');
    out.str('b');
    out.len3At(at, 2);
    assert.equal(rowBinaryToJson(out.buf.subarray(0, out.pos), parseStructure('f Array(String)')), '[["a","b"]]\n');
    assert.throws(() => out.len3At(at, 0x200000), RangeError);
  });

  test('encodeTraces merges parts of both kinds', () => {
    const t0 = baseTime();
    const a = generateResourceSpans({ spans: 10, seed: 3 });
    const b = [makeResourceSpans({ service: 'obj' }, [makeSpan({ traceId: newTraceId(), start: t0 })])];
    const merged = Traces.merge([decodeTraceRequestProto(encodeTraceRequestProto(a)).traces, Traces.fromResourceSpans(b)]);
    const e = encodeTraces(merged, '', newDictionaries());
    assert.equal(e.rows, 11);
    assert.equal(text(e).split('\n').filter(Boolean).length, 11);
  });
});

// ------------------------------------------------------------------------------------------------
// RowBinary rows as the engine writes them for SELECT_COLUMNS
// ------------------------------------------------------------------------------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  out.push(n);
  return Buffer.from(out);
}
const bytes = (s: string): Buffer => Buffer.concat([varint(Buffer.byteLength(s)), Buffer.from(s)]);
function int64(n: bigint, unsigned = false): Buffer {
  const b = Buffer.alloc(8);
  if (unsigned) b.writeBigUInt64LE(n);
  else b.writeBigInt64LE(n);
  return b;
}
const array = (items: Buffer[]): Buffer => Buffer.concat([varint(items.length), ...items]);
const map = (pairs: [string, string][]): Buffer => array(pairs.map(([k, v]) => Buffer.concat([bytes(k), bytes(v)])));

interface RowParts {
  span?: string;
  start?: bigint;
  name?: string;
  res?: [string, string][];
  resUrl?: string;
  scope?: [string, string];
  attrs?: [string, string][];
  duration?: bigint;
  message?: string;
  events?: { t: bigint; name: string; attrs: [string, string][] }[];
  links?: { traceId: string; spanId: string; state: string; attrs: [string, string][] }[];
  extra?: string;
}

/** One row in SELECT_COLUMNS order. */
function row(o: RowParts): Buffer {
  const ev = o.events ?? [];
  const lk = o.links ?? [];
  return Buffer.concat([
    bytes(o.extra ?? ''),
    int64(o.start ?? 1_700_000_000_000_000_000n),
    bytes('0af7651916cd43dd8448eb211c80319c'),
    bytes(o.span ?? '00f067aa0ba902b7'),
    bytes(''),
    bytes(''),
    bytes(o.name ?? 'op'),
    bytes('Server'),
    map(o.res ?? [['service.name', 'svc']]),
    bytes(o.resUrl ?? ''),
    bytes(o.scope?.[0] ?? 'lib'),
    bytes(o.scope?.[1] ?? '1.0'),
    map([]),
    bytes(''),
    map(o.attrs ?? []),
    int64(o.duration ?? 1000n, true),
    bytes('Unset'),
    bytes(o.message ?? ''),
    array(ev.map((e) => int64(e.t))),
    array(ev.map((e) => bytes(e.name))),
    array(ev.map((e) => map(e.attrs))),
    array(lk.map((l) => bytes(l.traceId))),
    array(lk.map((l) => bytes(l.spanId))),
    array(lk.map((l) => bytes(l.state))),
    array(lk.map((l) => map(l.attrs))),
  ]);
}

function decode(...answers: Buffer[]): RowDecoder {
  const d = new RowDecoder();
  for (const a of answers) d.decode(a);
  return d;
}

describe('clickhouse row decoding (RowBinary)', () => {
  test('equal resources and scopes are decoded once and shared; any difference keeps them apart', () => {
    const d = new RowDecoder();
    d.decode(Buffer.concat([row({ span: '0000000000000001' }), row({ span: '0000000000000002' })]));
    const [a, b] = d.rows as [DecodedRow, DecodedRow];
    assert.equal(a.resource, b.resource);
    assert.equal(a.scope, b.scope);
    // Another answer of the same decoder shares them too.
    d.decode(
      Buffer.concat([
        row({ span: '0000000000000003', resUrl: 'https://x' }),
        row({ span: '0000000000000004', res: [['service.name', 'other']] }),
        row({ span: '0000000000000005', extra: '{"r":{"d":2}}' }),
        row({ span: '0000000000000009' }),
      ]),
    );
    const differ = d.rows.slice(2, 5);
    assert.equal(d.rows[5]!.resource, a.resource);
    assert.equal(new Set([a, ...differ].map((x) => x.resource)).size, 4);
    assert.equal(differ[0]!.resourceSchemaUrl, 'https://x');
    assert.equal(differ[2]!.resource.droppedAttributesCount, 2);
    // Free text never runs into its neighbour: name "a\n" + version "b" is not name "a" + version "\nb";
    // nor do a map's keys and values: {"ab": ""} is not {"a": "b"}.
    d.decode(
      Buffer.concat([
        row({ span: '0000000000000006', scope: ['a\n', 'b'] }),
        row({ span: '0000000000000007', scope: ['a', '\nb'] }),
        row({ span: '0000000000000008', scope: ['a:1', 'b'] }),
        row({ span: '000000000000000a', res: [['ab', '']] }),
        row({ span: '000000000000000b', res: [['a', 'b']] }),
      ]),
    );
    const [s1, s2, s3, r1, r2] = d.rows.slice(6) as DecodedRow[];
    assert.notEqual(s1!.scope, s2!.scope);
    assert.deepEqual([s1!.scope.name, s1!.scope.version, s2!.scope.name, s2!.scope.version, s3!.scope.name], ['a\n', 'b', 'a', '\nb', 'a:1']);
    assert.notEqual(r1!.resource, r2!.resource);
    assert.deepEqual(r2!.resource.attributes, [{ key: 'a', value: { stringValue: 'b' } }]);
    const grouped = groupRows([a, b, ...differ, s1!, s2!]);
    assert.equal(grouped.length, 4);
    assert.equal(grouped[0]!.scopeSpans.length, 3);
    assert.equal(grouped[0]!.scopeSpans[0]!.spans.length, 2);
  });

  test('every column: long and non-ASCII strings, empty and full maps and arrays, 64-bit values, Extra types', () => {
    const long = (n: number) => 'é'.repeat(n >> 1) + (n % 2 ? 'x' : ''); // n bytes of UTF-8
    const texts = ['', 'x'.repeat(127), 'y'.repeat(128), long(16383), long(16384), '日本語 🚀 \u0000 "q" \\ $', long(2_100_000)];
    const rows = texts.map((t, i) =>
      row({
        span: `000000000000000${i}`,
        start: MAX_NS - BigInt(i),
        duration: 2n ** 60n + 7n,
        name: t,
        message: t,
        attrs: [
          ['s', t],
          ['n', '9223372036854775807'],
          [t, 'key'],
        ],
        events: i % 2 ? [] : [{ t: 2n ** 53n + 1n, name: t, attrs: [] }, { t: 1n, name: 'e2', attrs: [['k', t]] }],
        links: i % 3 ? [] : [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', state: t, attrs: [['l', t]] }],
        extra: '{"at":{"n":"i"},"ev":[{"d":3},0]}',
      }),
    );
    const d = decode(Buffer.concat(rows));
    assert.equal(d.rows.length, texts.length);
    d.rows.forEach((r, i) => {
      const t = texts[i]!;
      const s = r.span;
      assert.equal(s.spanId, `000000000000000${i}`);
      assert.equal(s.name, t);
      assert.equal(s.status.message, t);
      assert.equal(s.startTimeUnixNano, MAX_NS - BigInt(i));
      assert.equal(s.endTimeUnixNano, MAX_NS - BigInt(i) + 2n ** 60n + 7n);
      assert.deepEqual(s.attributes, [
        { key: 's', value: { stringValue: t } },
        { key: 'n', value: { intValue: 9223372036854775807n } },
        { key: t, value: { stringValue: 'key' } },
      ]);
      assert.deepEqual(
        s.events,
        i % 2
          ? []
          : [
              { timeUnixNano: 2n ** 53n + 1n, name: t, attributes: [], droppedAttributesCount: 3 },
              { timeUnixNano: 1n, name: 'e2', attributes: [{ key: 'k', value: { stringValue: t } }], droppedAttributesCount: 0 },
            ],
      );
      assert.deepEqual(
        s.links,
        i % 3
          ? []
          : [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceState: t, attributes: [{ key: 'l', value: { stringValue: t } }], droppedAttributesCount: 0, flags: 0 }],
      );
      assert.deepEqual(r.resource.attributes, [{ key: 'service.name', value: { stringValue: 'svc' } }]);
      assert.deepEqual(r.scope, { name: 'lib', version: '1.0', attributes: [], droppedAttributesCount: 0 });
    });
  });

  test('many rows in many answers keep their order; an empty answer has none', () => {
    const n = 5000;
    const answers: Buffer[] = [Buffer.alloc(0)];
    for (let i = 0; i < n; i += 1000) answers.push(Buffer.concat(Array.from({ length: 1000 }, (_, j) => row({ span: (i + j).toString(16).padStart(16, '0'), res: [['i', String((i + j) % 7)]] }))));
    const d = decode(...answers);
    assert.equal(d.rows.length, n);
    d.rows.forEach((r, i) => assert.equal(r.span.spanId, i.toString(16).padStart(16, '0')));
    assert.equal(new Set(d.rows.map((r) => r.resource)).size, 7);
  });

  test('a truncated or inconsistent answer is an error, not wrong spans', () => {
    const r = row({ attrs: [['k', 'v']], events: [{ t: 1n, name: 'e', attrs: [] }] });
    for (let cut = 1; cut < r.length; cut++) assert.throws(() => decode(r.subarray(0, cut)), /malformed RowBinary answer/, `cut at ${cut}`);
    // Events.Name shorter than Events.Timestamp.
    const good = row({});
    const bad = Buffer.concat([good.subarray(0, good.length - 6), array([int64(1n)]), array([]), array([]), array([]), array([]), array([]), array([])]);
    assert.throws(() => decode(bad), /events of unequal lengths/);
  });
});

describe('clickhouse rows (JSONCompactEachRow answers)', () => {
  test('rows as the engine writes them, with newlines, commas and brackets inside strings, and an empty answer', async () => {
    await withStore(newTestStore(), async (s) => {
      const rs = await s.clickhouse.query({
        query: "SELECT number, concat('a\\nb,', toString(number), ']\\r\\t\"'), [number, 2], toUInt64(18446744073709551615) FROM numbers(3)",
        format: 'JSONCompactEachRow',
      });
      assert.deepEqual(compactRows(await rs.text()), [0, 1, 2].map((i) => [String(i), `a\nb,${i}]\r\t"`, [String(i), '2'], '18446744073709551615']));
      const none = await s.clickhouse.query({ query: 'SELECT 1 WHERE 0', format: 'JSONCompactEachRow' });
      assert.deepEqual(compactRows(await none.text()), []);
    });
  });

  test('an error a server appends to rows it has begun to send is raised with its code', () => {
    const text = '["a",1]\n["b",2]\n__exception__\r\nxyzzy\r\nCode: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED) (version 25.11.1.1)\r\n42 xyzzy\r\n__exception__\r\n';
    assert.throws(() => compactRows(text), (err: Error & { code?: string }) => {
      assert.match(err.message, /unreadable rows in the answer, which ends: .*Code: 241\. DB::Exception: Memory limit \(total\) exceeded/s);
      assert.equal(err.code, '241');
      return true;
    });
    assert.throws(() => compactRows('["a",1]\n["b"'), (err: Error & { code?: string }) => err.code === undefined && /unreadable rows/.test(err.message));
  });
});
