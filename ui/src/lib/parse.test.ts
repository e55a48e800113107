import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOtlpJson, nanosToMicros } from './otlp-json.js';
import { parseJaegerJson } from './jaeger-json.js';
import { parseTraceFile } from './file-formats.js';
import { normalizeId } from './ids.js';
import { toOtlpJson } from './to-otlp.js';
import { anyValueToString } from './model.js';
import { bigTrace, dispatchTrace, toRequest } from '../../e2e/fixtures.js';

const otlp = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'frontend' } }] },
      scopeSpans: [
        {
          scope: { name: 'my.lib', version: '1.2.3' },
          spans: [
            {
              traceId: '5B8EFFF798038103D269B633813FC60C',
              spanId: 'EEE19B7EC3C1B174',
              parentSpanId: '',
              name: 'GET /',
              kind: 2,
              startTimeUnixNano: '1544712660000000000',
              endTimeUnixNano: '1544712661000000500',
              attributes: [{ key: 'http.status_code', value: { intValue: '500' } }],
              events: [{ timeUnixNano: '1544712660500000000', name: 'exception', attributes: [] }],
              links: [{ traceId: '00000000000000000000000000000001', spanId: '0000000000000002' }],
              status: { code: 2, message: 'boom' },
            },
            { traceId: '5b8efff798038103d269b633813fc60c', spanId: '0000000000000003', parentSpanId: 'eee19b7ec3c1b174', name: 'child', kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: 1544712660100000000, endTimeUnixNano: 1544712660200000000 },
          ],
        },
      ],
    },
  ],
};

describe('OTLP JSON', () => {
  test('spans with resource, scope, kind, status, events, links; ids lowercased; times in µs', () => {
    const [t] = parseOtlpJson({ result: otlp });
    assert.ok(t);
    assert.equal(t.traceId, '5b8efff798038103d269b633813fc60c');
    const root = t.spans[0]!;
    assert.equal(root.service, 'frontend');
    assert.equal(root.scope.name, 'my.lib');
    assert.equal(root.kind, 2);
    assert.equal(root.status.code, 2);
    assert.equal(root.error, true);
    assert.equal(root.durationUs, 1_000_000.5);
    assert.equal(root.events[0]!.timeUs - root.startUs, 500_000);
    assert.equal(root.links[0]!.spanId, '0000000000000002');
    assert.equal(t.spans[1]!.kind, 3);
    assert.equal(t.spans[1]!.parentSpanId, 'eee19b7ec3c1b174');
    assert.equal(anyValueToString(root.attributes[0]!.value), '500');
  });
  test('API v3 span warnings (@jaeger@warnings) become span warnings, not attributes', () => {
    const doc = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '01'.repeat(16), spanId: '02'.repeat(8), name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'a', value: { stringValue: 'b' } }, { key: '@jaeger@warnings', value: { arrayValue: { values: [{ stringValue: 'clock skew' }] } } }] }] }] }] };
    const s = parseOtlpJson(doc)[0]!.spans[0]!;
    assert.deepEqual(s.warnings, ['clock skew']);
    assert.deepEqual(s.attributes.map((a) => a.key), ['a']);
    assert.equal(s.service, 'unknown_service');
  });
  test('nanos to micros keeps precision', () => {
    assert.equal(nanosToMicros('1700000000123456789'), 1700000000123456.789);
    assert.equal(nanosToMicros('1500'), 1.5);
  });
  test('base64 ids are accepted', () => {
    assert.equal(normalizeId('W47/95gDgQPSabYzgT/GDA==', 16), '5b8efff798038103d269b633813fc60c');
  });
  test('round trip through toOtlpJson', () => {
    const [t] = parseOtlpJson(otlp);
    const [u] = parseOtlpJson(toOtlpJson(t!));
    assert.deepEqual(u!.spans.map((s) => [s.spanId, s.startUs, s.durationUs, s.service, s.kind]), t!.spans.map((s) => [s.spanId, s.startUs, s.durationUs, s.service, s.kind]));
  });
});

describe('Jaeger JSON', () => {
  const jaeger = {
    data: [
      {
        traceID: 'abc',
        spans: [
          { traceID: 'abc', spanID: '1', operationName: 'root', references: [], startTime: 1000, duration: 500, tags: [{ key: 'span.kind', type: 'string', value: 'server' }, { key: 'otel.status_code', type: 'string', value: 'ERROR' }, { key: 'http.status_code', type: 'int64', value: 500 }], logs: [{ timestamp: 1100, fields: [{ key: 'event', type: 'string', value: 'retry' }, { key: 'n', type: 'int64', value: 2 }] }], processID: 'p1' },
          { traceID: 'abc', spanID: '2', operationName: 'child', references: [{ refType: 'CHILD_OF', traceID: 'abc', spanID: '1' }, { refType: 'FOLLOWS_FROM', traceID: 'def', spanID: '9' }], startTime: 1100, duration: 100, tags: [{ key: 'error', type: 'bool', value: true }], processID: 'p2' },
        ],
        processes: { p1: { serviceName: 'front', tags: [{ key: 'host.name', type: 'string', value: 'h1' }] }, p2: { serviceName: 'db', tags: [] } },
      },
    ],
  };
  test('tags, logs, references and processes become attributes, events, parents/links and resources', () => {
    const [t] = parseJaegerJson(jaeger);
    assert.ok(t);
    assert.equal(t.traceId, '00000000000000000000000000000abc');
    const [a, b] = t.spans;
    assert.equal(a!.service, 'front');
    assert.equal(a!.kind, 2);
    assert.equal(a!.status.code, 2);
    assert.ok(!a!.attributes.some((x) => x.key === 'span.kind'));
    assert.equal(a!.events[0]!.name, 'retry');
    assert.equal(a!.resource.attributes.find((x) => x.key === 'host.name')?.value?.stringValue, 'h1');
    assert.equal(b!.parentSpanId, a!.spanId);
    assert.equal(b!.links[0]!.type, 'FOLLOWS_FROM');
    assert.equal(b!.error, true);
  });
  test('file detection: Jaeger JSON, OTLP JSON, OTLP JSONL and garbage', () => {
    assert.equal(parseTraceFile(JSON.stringify(jaeger)).format, 'jaeger-json');
    assert.equal(parseTraceFile(JSON.stringify(jaeger.data[0])).format, 'jaeger-json');
    assert.equal(parseTraceFile(JSON.stringify(otlp)).format, 'otlp-json');
    const d1 = dispatchTrace({ seed: 1, startMs: 1e12 });
    const d2 = dispatchTrace({ seed: 2, startMs: 1e12 });
    const jsonl = [toRequest(d1.spans.slice(0, 5)), toRequest(d1.spans.slice(5)), toRequest(d2.spans)].map((x) => JSON.stringify(x)).join('\n');
    const f = parseTraceFile(jsonl);
    assert.equal(f.format, 'otlp-jsonl');
    assert.equal(f.traces.length, 2);
    assert.equal(f.traces.find((t) => t.traceId === d1.traceId)!.spans.length, d1.spans.length, 'spans of one trace across lines are joined');
    assert.throws(() => parseTraceFile('{"hello": 1}'), /unrecognised/);
    assert.throws(() => parseTraceFile('{"resourceSpans": []}\nnot json'), /line 2/);
    assert.throws(() => parseTraceFile('   '), /empty/);
  });
  test('a generated 50,000-span trace parses quickly', () => {
    const big = bigTrace(50_000, { chunk: 50_000 });
    const text = JSON.stringify(big.requests[0]);
    const t0 = performance.now();
    const f = parseTraceFile(text);
    assert.equal(f.traces[0]!.spans.length, 50_000);
    assert.ok(performance.now() - t0 < 3000);
  });
});
