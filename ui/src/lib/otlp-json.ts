import { makeTrace, isErrorAttr, WARNINGS_ATTRIBUTE, anyValueToPlain, type KeyValueJson, type UiEvent, type UiLink, type UiResource, type UiScope, type UiSpan, type UiTrace } from './model.js';
import { isZeroId, normalizeId } from './ids.js';

/** OTLP JSON (TracesData / ExportTraceServiceRequest), as the OTLP spec encodes it. */
interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValueJson[] };
    scopeSpans?: ScopeSpansJson[];
    /** Pre-1.0 name of scopeSpans. */
    instrumentationLibrarySpans?: ScopeSpansJson[];
  }>;
}
interface ScopeSpansJson {
  scope?: { name?: string; version?: string; attributes?: KeyValueJson[] };
  instrumentationLibrary?: { name?: string; version?: string };
  spans?: SpanJson[];
}
interface SpanJson {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: KeyValueJson[];
  events?: Array<{ timeUnixNano?: string | number; name?: string; attributes?: KeyValueJson[] }>;
  links?: Array<{ traceId?: string; spanId?: string; attributes?: KeyValueJson[] }>;
  status?: { code?: number | string; message?: string };
}

// Shared (never mutated) empty lists: most spans have no events or links.
const EMPTY_EVENTS: UiEvent[] = [];
const EMPTY_LINKS: UiLink[] = [];
const NO_WARNINGS: string[] = [];

const kindByName: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5,
};
const statusByName: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** Nanoseconds (decimal string or number) to microseconds, keeping sub-µs digits exact enough. */
export function nanosToMicros(v: string | number | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v / 1000;
  if (v.length <= 15) return Number(v) / 1000;
  return Number(v.slice(0, -3)) + Number(v.slice(-3)) / 1000;
}

function enumValue(v: number | string | undefined, names: Record<string, number>): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return names[v] ?? (Number.isFinite(Number(v)) ? Number(v) : 0);
}

/** Is this value OTLP JSON (a TracesData, or API v3's `{result: TracesData}`)? */
export function isOtlpJson(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.resourceSpans)) return true;
  const r = o.result as Record<string, unknown> | undefined;
  return typeof r === 'object' && r !== null && Array.isArray(r.resourceSpans);
}

/** Appends the spans of an OTLP JSON document to `out`, grouped by trace id. */
export function collectOtlpSpans(doc: unknown, out: Map<string, UiSpan[]>): void {
  const o = doc as { result?: OtlpJson } & OtlpJson;
  const td: OtlpJson = o.result && Array.isArray(o.result.resourceSpans) ? o.result : o;
  for (const rs of td.resourceSpans ?? []) {
    const resAttrs = rs.resource?.attributes ?? [];
    let service = 'unknown_service';
    for (const kv of resAttrs) if (kv.key === 'service.name' && kv.value?.stringValue !== undefined) service = kv.value.stringValue;
    const resource: UiResource = { service, attributes: resAttrs };
    for (const ss of rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) {
      const sc = ss.scope ?? ss.instrumentationLibrary;
      const scope: UiScope = { name: sc?.name ?? '', version: sc?.version ?? '', attributes: (ss.scope?.attributes) ?? [] };
      for (const sp of ss.spans ?? []) {
        const traceId = normalizeId(sp.traceId, 16);
        const startUs = nanosToMicros(sp.startTimeUnixNano);
        const endUs = nanosToMicros(sp.endTimeUnixNano);
        const parent = normalizeId(sp.parentSpanId, 8);
        let attributes = sp.attributes ?? [];
        let warnings = NO_WARNINGS;
        if (attributes.some((a) => a.key === WARNINGS_ATTRIBUTE)) {
          const w = attributes.find((a) => a.key === WARNINGS_ATTRIBUTE)!;
          const plain = anyValueToPlain(w.value);
          warnings = Array.isArray(plain) ? plain.map(String) : [String(plain)];
          attributes = attributes.filter((a) => a.key !== WARNINGS_ATTRIBUTE);
        }
        const statusCode = enumValue(sp.status?.code, statusByName);
        const events: UiEvent[] = sp.events === undefined || sp.events.length === 0 ? EMPTY_EVENTS : sp.events.map((e) => ({ timeUs: nanosToMicros(e.timeUnixNano), name: e.name ?? '', attributes: e.attributes ?? [] }));
        const links: UiLink[] = sp.links === undefined || sp.links.length === 0 ? EMPTY_LINKS : sp.links.map((l) => ({ traceId: normalizeId(l.traceId, 16), spanId: normalizeId(l.spanId, 8), type: 'link', attributes: l.attributes ?? [] }));
        const span: UiSpan = {
          traceId,
          spanId: normalizeId(sp.spanId, 8),
          parentSpanId: parent === '' || isZeroId(parent) ? '' : parent,
          name: sp.name ?? '',
          kind: enumValue(sp.kind, kindByName),
          startUs,
          durationUs: Math.max(0, endUs - startUs),
          service,
          resource,
          scope,
          attributes,
          events,
          links,
          status: { code: statusCode, message: sp.status?.message ?? '' },
          traceState: sp.traceState ?? '',
          flags: sp.flags ?? 0,
          error: statusCode === 2 || isErrorAttr(attributes),
          warnings,
        };
        let list = out.get(traceId);
        if (!list) out.set(traceId, (list = []));
        list.push(span);
      }
    }
  }
}

export function parseOtlpJson(doc: unknown): UiTrace[] {
  const m = new Map<string, UiSpan[]>();
  collectOtlpSpans(doc, m);
  return [...m].map(([id, spans]) => makeTrace(id, spans));
}
