import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateResourceSpans } from '../../pdata/testdata/generate.js';
import { encodeTraceRequestProto } from '../../pdata/proto-encode.js';
import { decodeTraceRequestProto } from '../../pdata/proto-view.js';
import { Traces } from '../../pdata/traces.js';
import type { ResourceSpans } from '../../pdata/model.js';
import { RowDecoder, encodeRows, groupRows, newDictionaries, type RawRow } from './rows.js';
import { encodeTraces } from './writer.js';
import { baseTime, bool, dbl, int, makeResourceSpans, makeSpan, newTraceId, str } from '../conformance.js';

function sameRows(rs: ResourceSpans[], tenant: string): void {
  const a = encodeRows(rs, tenant, newDictionaries());
  const b = encodeTraces(decodeTraceRequestProto(encodeTraceRequestProto(rs)).traces, tenant, newDictionaries());
  assert.equal(b.rows, a.rows);
  assert.equal(b.body, a.body);
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
    const body = encodeRows(rs, '', newDictionaries()).body;
    assert.ok(!body.includes('$'), 'no raw $ (the rows travel inside a $$ heredoc)');
  });

  test('encodeTraces merges parts of both kinds', () => {
    const t0 = baseTime();
    const a = generateResourceSpans({ spans: 10, seed: 3 });
    const b = [makeResourceSpans({ service: 'obj' }, [makeSpan({ traceId: newTraceId(), start: t0 })])];
    const merged = Traces.merge([decodeTraceRequestProto(encodeTraceRequestProto(a)).traces, Traces.fromResourceSpans(b)]);
    const e = encodeTraces(merged, '', newDictionaries());
    assert.equal(e.rows, 11);
    assert.equal(e.body.split('\n').filter(Boolean).length, 11);
  });
});

describe('clickhouse row decoding', () => {
  // A row as SELECT_COLUMNS gives it, with the parts the test varies.
  const row = (o: { span: string; res?: string; resUrl?: string; scope?: [string, string]; extra?: string }): RawRow => [
    '1700000000000000000', '0af7651916cd43dd8448eb211c80319c', o.span, '', '', 'op', 'Server', 'svc',
    o.res ?? '[["service.name","svc"]]', o.resUrl ?? '', o.scope?.[0] ?? 'lib', o.scope?.[1] ?? '1.0', '[]', '',
    [], '1000', 'Unset', '', [], [], [], [], [], [], [], o.extra ?? '',
  ];

  test('equal resources and scopes are decoded once and shared; any difference keeps them apart', () => {
    const d = new RowDecoder();
    const a = d.decode(row({ span: '0000000000000001' }));
    const b = d.decode(row({ span: '0000000000000002' }));
    assert.equal(a.resource, b.resource);
    assert.equal(a.scope, b.scope);
    const differ = [
      row({ span: '0000000000000003', resUrl: 'https://x' }),
      row({ span: '0000000000000004', res: '[["service.name","other"]]' }),
      row({ span: '0000000000000005', extra: '{"r":{"d":2}}' }),
    ].map((r) => d.decode(r));
    assert.equal(new Set([a, ...differ].map((x) => x.resource)).size, 4);
    assert.equal(differ[2]!.resource.droppedAttributesCount, 2);
    // Free text never runs into its neighbour: name "a\n" + version "b" is not name "a" + version "\nb".
    const s1 = d.decode(row({ span: '0000000000000006', scope: ['a\n', 'b'] }));
    const s2 = d.decode(row({ span: '0000000000000007', scope: ['a', '\nb'] }));
    const s3 = d.decode(row({ span: '0000000000000008', scope: ['a:1', 'b'] }));
    assert.notEqual(s1.scope, s2.scope);
    assert.deepEqual([s1.scope.name, s1.scope.version, s2.scope.name, s2.scope.version, s3.scope.name], ['a\n', 'b', 'a', '\nb', 'a:1']);
    const grouped = groupRows([a, b, ...differ, s1, s2]);
    assert.equal(grouped.length, 4);
    assert.equal(grouped[0]!.scopeSpans.length, 3);
    assert.equal(grouped[0]!.scopeSpans[0]!.spans.length, 2);
  });
});
