/**
 * The query service's working form of a trace: a flat list of spans, each with its resource and
 * scope (shared by reference) and the warnings the adjusters attach. Stored data is never
 * mutated: adjusters replace `span` with a modified copy.
 */
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, TraceId } from '../pdata/model.js';
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

/** Splits storage chunks into traces (each element normally holds exactly one), merging by id. */
export function rowsByTrace(list: readonly Traces[], into: Map<TraceId, QueryTrace> = new Map()): Map<TraceId, QueryTrace> {
  for (const td of list) {
    for (const rs of td.resourceSpans()) {
      for (const ss of rs.scopeSpans) {
        let t: QueryTrace | undefined;
        for (const span of ss.spans) {
          if (t?.traceId !== span.traceId) {
            t = into.get(span.traceId);
            if (!t) into.set(span.traceId, (t = { traceId: span.traceId, rows: [] }));
          }
          t.rows.push({ resource: rs.resource, resourceSchemaUrl: rs.schemaUrl, scope: ss.scope, scopeSchemaUrl: ss.schemaUrl, span, warnings: [] });
        }
      }
    }
  }
  return into;
}

function valueKey(v: AnyValue): string {
  if ('stringValue' in v) return `s${JSON.stringify(v.stringValue)}`;
  if ('boolValue' in v) return `b${v.boolValue}`;
  if ('intValue' in v) return `i${v.intValue}`;
  if ('doubleValue' in v) return `d${v.doubleValue}`;
  if ('bytesValue' in v) return `x${Buffer.from(v.bytesValue).toString('hex')}`;
  if ('arrayValue' in v) return `[${v.arrayValue.values.map(valueKey).join(',')}]`;
  if ('kvlistValue' in v) return `{${attrsKey(v.kvlistValue.values)}}`;
  return 'e';
}

/** A string that is equal for equal attribute lists (same keys, values and order). */
export function attrsKey(attrs: readonly KeyValue[]): string {
  let out = '';
  for (const kv of attrs) out += `${JSON.stringify(kv.key)}=${valueKey(kv.value)},`;
  return out;
}

export interface ScopeGroup {
  readonly scope: InstrumentationScope;
  readonly schemaUrl: string;
  readonly rows: SpanRow[];
}
export interface ResourceGroup {
  readonly resource: Resource;
  readonly schemaUrl: string;
  readonly scopes: ScopeGroup[];
}

/**
 * Groups rows into resources and scopes by CONTENT (backends may return one resource object per
 * span; equal ones are merged so the output does not repeat them), keeping first-seen order.
 */
export function groupRows(rows: readonly SpanRow[]): ResourceGroup[] {
  const resourceKeys = new Map<Resource, string>();
  const scopeKeys = new Map<InstrumentationScope, string>();
  const groups = new Map<string, { g: ResourceGroup; scopes: Map<string, ScopeGroup> }>();
  for (const row of rows) {
    let rk = resourceKeys.get(row.resource);
    if (rk === undefined) resourceKeys.set(row.resource, (rk = `${attrsKey(row.resource.attributes)}|${row.resource.droppedAttributesCount}`));
    rk += `|${row.resourceSchemaUrl}`;
    let g = groups.get(rk);
    if (!g) groups.set(rk, (g = { g: { resource: row.resource, schemaUrl: row.resourceSchemaUrl, scopes: [] }, scopes: new Map() }));
    let sk = scopeKeys.get(row.scope);
    if (sk === undefined) {
      const s = row.scope;
      scopeKeys.set(row.scope, (sk = `${JSON.stringify(s.name)}|${JSON.stringify(s.version)}|${attrsKey(s.attributes)}|${s.droppedAttributesCount}`));
    }
    sk += `|${row.scopeSchemaUrl}`;
    let sg = g.scopes.get(sk);
    if (!sg) {
      sg = { scope: row.scope, schemaUrl: row.scopeSchemaUrl, rows: [] };
      g.scopes.set(sk, sg);
      g.g.scopes.push(sg);
    }
    sg.rows.push(row);
  }
  return [...groups.values()].map((x) => x.g);
}

/** The span as returned by API v3: adjuster warnings in the `@jaeger@warnings` attribute, as Jaeger does. */
export function spanWithWarnings(row: SpanRow): Span {
  const span = row.span;
  if (row.warnings.length === 0) return span;
  const existing = span.attributes.find((kv) => kv.key === WARNINGS_ATTRIBUTE);
  const prior = existing && 'arrayValue' in existing.value ? existing.value.arrayValue.values : [];
  const attr: KeyValue = {
    key: WARNINGS_ATTRIBUTE,
    value: { arrayValue: { values: [...prior, ...row.warnings.map((w) => ({ stringValue: w }))] } },
  };
  return { ...span, attributes: [...span.attributes.filter((kv) => kv.key !== WARNINGS_ATTRIBUTE), attr] };
}
