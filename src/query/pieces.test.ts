// The streamed JSON writers produce exactly what the object converters / pdata's encoder produce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstrumentationScope, Resource, ResourceSpans } from '../pdata/model.js';
import { SpanKind } from '../pdata/model.js';
import { tracesToOtlpJson } from '../pdata/json.js';
import { baseTime, int, makeSpan, newSpanId, newTraceId, str } from '../storage/conformance.js';
import { jaegerTracePieces, toJaegerTrace } from './jaeger-json.js';
import { otlpResultPieces } from './otlp-json.js';
import { spanWithWarnings, type QueryTrace, type SpanRow } from './model.js';

function fixture(n: number): QueryTrace {
  const traceId = newTraceId();
  const t0 = baseTime();
  // Equal resources as distinct objects (as a backend may return them) must merge; scopes differ.
  const res = (svc: string): Resource => ({ attributes: [str('service.name', svc), int('pid', 7)], droppedAttributesCount: 0 });
  const scopes: InstrumentationScope[] = [
    { name: 'a', version: '1', attributes: [], droppedAttributesCount: 0 },
    { name: 'b', version: '', attributes: [str('k', 'v')], droppedAttributesCount: 2 },
  ];
  const rows: SpanRow[] = [];
  for (let i = 0; i < n; i++) {
    const svc = i % 3 === 0 ? 'one' : 'two';
    rows.push({
      resource: res(svc),
      resourceSchemaUrl: svc === 'one' ? 'https://opentelemetry.io/schemas/1.24.0' : '',
      scope: scopes[i % 2]!,
      scopeSchemaUrl: i % 2 ? 'https://s' : '',
      span: makeSpan({ traceId, spanId: newSpanId(), name: `op${i % 7}`, kind: SpanKind.SERVER, start: t0 + BigInt(i), attributes: [int('i', i)] }),
      warnings: i % 100 === 0 ? [`warning ${i}`] : [],
    });
  }
  return { traceId, rows };
}

test('Jaeger JSON pieces = the object model', () => {
  for (const n of [0, 1, 255, 256, 257, 700]) {
    const t = fixture(n);
    const streamed = JSON.parse([...jaegerTracePieces(t)].join(''));
    assert.deepEqual(streamed, JSON.parse(JSON.stringify(toJaegerTrace(t))), `n=${n}`);
    assert.equal(Object.keys(streamed.processes).length, n === 0 ? 0 : n === 1 ? 1 : 2, 'equal resources share a process');
  }
});

test('OTLP JSON pieces = pdata encoder output, grouped by resource and scope content', () => {
  for (const n of [1, 2, 256, 257, 513, 700]) {
    const t = fixture(n);
    // The expected grouping, built naively.
    const expected: ResourceSpans[] = [];
    const j = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    const rkey = (r: SpanRow) => `${j(r.resource)}|${r.resourceSchemaUrl}`;
    const skey = (r: SpanRow) => `${j(r.scope)}|${r.scopeSchemaUrl}`;
    const byR = new Map<string, { rs: ResourceSpans; byS: Map<string, { spans: unknown[] }> }>();
    for (const r of t.rows) {
      let g = byR.get(rkey(r));
      if (!g) {
        g = { rs: { resource: r.resource, schemaUrl: r.resourceSchemaUrl, scopeSpans: [] }, byS: new Map() };
        byR.set(rkey(r), g);
        expected.push(g.rs);
      }
      let s = g.byS.get(skey(r));
      if (!s) {
        const ss = { scope: r.scope, schemaUrl: r.scopeSchemaUrl, spans: [] as ReturnType<typeof spanWithWarnings>[] };
        (g.rs.scopeSpans as (typeof ss)[]).push(ss);
        s = ss;
        g.byS.set(skey(r), s);
      }
      s.spans.push(spanWithWarnings(r));
    }
    const streamed = JSON.parse([...otlpResultPieces(t.rows)].join(''));
    assert.deepEqual(streamed, { result: JSON.parse(JSON.stringify(tracesToOtlpJson(expected))) }, `n=${n}`);
    assert.equal(streamed.result.resourceSpans.length, n === 1 ? 1 : 2);
    const spans = streamed.result.resourceSpans.flatMap((x: any) => x.scopeSpans.flatMap((ss: any) => ss.spans));
    assert.equal(spans.length, n);
    assert.deepEqual(spans.find((s: any) => s.attributes.some((a: any) => a.key === 'i' && a.value.intValue === '0')).attributes.at(-1), {
      key: '@jaeger@warnings',
      value: { arrayValue: { values: [{ stringValue: 'warning 0' }] } },
    });
  }
});
