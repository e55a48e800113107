/**
 * API v3 bodies: OTLP JSON `{"result":{"resourceSpans":[...]}}`, encoded with pdata's OTLP/JSON
 * encoder (so the format is the one the receiver accepts) but one span at a time, as pieces of a
 * JsonStream: big traces never exist as one object graph.
 */
import { tracesToOtlpJson, spanToJson } from '../pdata/json.js';
import { groupRows, spanWithWarnings, type SpanRow } from './model.js';

/** JSON text of the `resourceSpans` entries' heads: `{"resource":…,"scopeSpans":[` etc., from pdata's encoder. */
function heads(g: ReturnType<typeof groupRows>[number]): { open: string; scopes: { open: string; close: string }[]; close: string } {
  const doc = tracesToOtlpJson([
    { resource: g.resource, schemaUrl: g.schemaUrl, scopeSpans: g.scopes.map((s) => ({ scope: s.scope, schemaUrl: s.schemaUrl, spans: [] })) },
  ]).resourceSpans[0]!;
  const { scopeSpans, ...rest } = doc;
  const { schemaUrl, ...resourcePart } = rest;
  return {
    open: `${JSON.stringify(resourcePart).slice(0, -1)},"scopeSpans":[`,
    scopes: scopeSpans.map((ss) => {
      const { spans: _spans, schemaUrl: scopeSchemaUrl, ...scopePart } = ss;
      return {
        open: `${JSON.stringify(scopePart).slice(0, -1)},"spans":[`,
        close: scopeSchemaUrl ? `],"schemaUrl":${JSON.stringify(scopeSchemaUrl)}}` : ']}',
      };
    }),
    close: schemaUrl ? `],"schemaUrl":${JSON.stringify(schemaUrl)}}` : ']}',
  };
}

/** The pieces of `{"result":{"resourceSpans":[...]}}` for these rows. */
export function* otlpResultPieces(rows: readonly SpanRow[]): Generator<string> {
  yield '{"result":{"resourceSpans":[';
  let first = true;
  for (const g of groupRows(rows)) {
    const h = heads(g);
    yield (first ? '' : ',') + h.open;
    first = false;
    for (let i = 0; i < g.scopes.length; i++) {
      const s = g.scopes[i]!;
      const sh = h.scopes[i]!;
      yield (i === 0 ? '' : ',') + sh.open;
      let batch: string[] = [];
      for (let k = 0; k < s.rows.length; k++) {
        batch.push(JSON.stringify(spanToJson(spanWithWarnings(s.rows[k]!))));
        if (batch.length === 256) {
          yield (k + 1 > 256 ? ',' : '') + batch.join(',');
          batch = [];
        }
      }
      if (batch.length > 0) yield (s.rows.length > batch.length ? ',' : '') + batch.join(',');
      yield sh.close;
    }
    yield h.close;
  }
  yield ']}}';
}
