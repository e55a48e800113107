/**
 * The query service's working form of a trace: a flat list of spans, each with its resource and
 * scope (shared by reference, so regrouping into ResourceSpans is cheap) and the warnings the
 * adjusters attach. Stored data is never mutated: adjusters replace `span` with a modified copy.
 */
import type { InstrumentationScope, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, TraceId } from '../pdata/model.js';
import type { Traces } from '../pdata/traces.js';

export interface SpanRow {
  readonly resource: Resource;
  readonly resourceSchemaUrl: string;
  readonly scope: InstrumentationScope;
  readonly scopeSchemaUrl: string;
  span: Span;
  /** Adjuster findings, shown as Jaeger span warnings (v1) or the `@jaeger@warnings` attribute (v3). */
  warnings: string[];
}

export interface QueryTrace {
  readonly traceId: TraceId;
  rows: SpanRow[];
}

/** Jaeger's attribute that carries span warnings in OTLP data (jptrace.WarningsAttribute). */
export const WARNINGS_ATTRIBUTE = '@jaeger@warnings';

/** Splits a storage chunk into traces (each element normally holds exactly one), merging by id. */
export function rowsByTrace(list: readonly Traces[], into: Map<TraceId, QueryTrace> = new Map()): Map<TraceId, QueryTrace> {
  for (const td of list) {
    for (const rs of td.resourceSpans()) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          let t = into.get(span.traceId);
          if (!t) into.set(span.traceId, (t = { traceId: span.traceId, rows: [] }));
          t.rows.push({ resource: rs.resource, resourceSchemaUrl: rs.schemaUrl, scope: ss.scope, scopeSchemaUrl: ss.schemaUrl, span, warnings: [] });
        }
      }
    }
  }
  return into;
}

/** Regroups rows into OTLP ResourceSpans/ScopeSpans (by resource and scope identity), keeping order. */
export function toResourceSpans(rows: readonly SpanRow[], opts: { warningsAsAttribute: boolean }): ResourceSpans[] {
  const byResource = new Map<Resource, { rs: { resource: Resource; schemaUrl: string; scopes: Map<InstrumentationScope, { scope: InstrumentationScope; schemaUrl: string; spans: Span[] }> } }>();
  for (const row of rows) {
    let r = byResource.get(row.resource);
    if (!r) byResource.set(row.resource, (r = { rs: { resource: row.resource, schemaUrl: row.resourceSchemaUrl, scopes: new Map() } }));
    let s = r.rs.scopes.get(row.scope);
    if (!s) r.rs.scopes.set(row.scope, (s = { scope: row.scope, schemaUrl: row.scopeSchemaUrl, spans: [] }));
    s.spans.push(opts.warningsAsAttribute && row.warnings.length > 0 ? withWarningsAttribute(row.span, row.warnings) : row.span);
  }
  return [...byResource.values()].map(({ rs }) => ({
    resource: rs.resource,
    schemaUrl: rs.schemaUrl,
    scopeSpans: [...rs.scopes.values()].map((s): ScopeSpans => ({ scope: s.scope, schemaUrl: s.schemaUrl, spans: s.spans })),
  }));
}

function withWarningsAttribute(span: Span, warnings: readonly string[]): Span {
  const existing = span.attributes.find((kv) => kv.key === WARNINGS_ATTRIBUTE);
  const prior = existing && 'arrayValue' in existing.value ? existing.value.arrayValue.values : [];
  const attr: KeyValue = {
    key: WARNINGS_ATTRIBUTE,
    value: { arrayValue: { values: [...prior, ...warnings.map((w) => ({ stringValue: w }))] } },
  };
  return { ...span, attributes: [...span.attributes.filter((kv) => kv.key !== WARNINGS_ATTRIBUTE), attr] };
}
