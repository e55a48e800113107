/**
 * The UI's trace model: OTLP names (resource, scope, attributes, events, links), times as
 * microseconds since the Unix epoch in plain numbers (exact to well under a microsecond for
 * present-day timestamps), attribute values kept in their OTLP JSON form and formatted lazily.
 * Both API v3 (OTLP JSON) and API v1 (Jaeger JSON) responses and uploaded files are parsed into it.
 */

export interface AnyValueJson {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValueJson[] };
  kvlistValue?: { values?: KeyValueJson[] };
  bytesValue?: string;
}

export interface KeyValueJson {
  key: string;
  value?: AnyValueJson;
}

export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export const spanKindNames = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export const statusNames = ['unset', 'ok', 'error'] as const;

export interface UiResource {
  service: string;
  attributes: KeyValueJson[];
}

export interface UiScope {
  name: string;
  version: string;
  attributes: KeyValueJson[];
}

export interface UiEvent {
  timeUs: number;
  name: string;
  attributes: KeyValueJson[];
}

export interface UiLink {
  traceId: string;
  spanId: string;
  /** 'link' for OTLP links; Jaeger references other than the parent keep their type. */
  type: string;
  attributes: KeyValueJson[];
}

export interface UiSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startUs: number;
  durationUs: number;
  service: string;
  resource: UiResource;
  scope: UiScope;
  attributes: KeyValueJson[];
  events: UiEvent[];
  links: UiLink[];
  status: { code: number; message: string };
  traceState: string;
  flags: number;
  /** status ERROR, or an `error=true` attribute (Jaeger's convention). */
  error: boolean;
  /** What the query service noted about the span (clock skew, missing parent, …). */
  warnings: string[];
}

/** The attribute under which Jaeger's API v3 (and Skua) carries span warnings in OTLP JSON. */
export const WARNINGS_ATTRIBUTE = '@jaeger@warnings';

export interface UiTrace {
  traceId: string;
  spans: UiSpan[];
  /** Smallest start and largest end over all spans (µs since epoch). */
  startUs: number;
  endUs: number;
  warnings: string[];
}

export function makeTrace(traceId: string, spans: UiSpan[], warnings: string[] = []): UiTrace {
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    if (s.startUs < start) start = s.startUs;
    const e = s.startUs + s.durationUs;
    if (e > end) end = e;
  }
  if (spans.length === 0) {
    start = 0;
    end = 0;
  }
  return { traceId, spans, startUs: start, endUs: end, warnings };
}

/** The string form of an attribute value, as shown and as searched. */
export function anyValueToString(v: AnyValueJson | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return JSON.stringify((v.arrayValue.values ?? []).map(anyValueToPlain));
  if (v.kvlistValue) return JSON.stringify(anyValueToPlain(v));
  return '';
}

export function anyValueToPlain(v: AnyValueJson | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return typeof v.intValue === 'number' ? v.intValue : Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValueToPlain);
  if (v.kvlistValue) {
    const o: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values ?? []) o[kv.key] = anyValueToPlain(kv.value);
    return o;
  }
  return null;
}

export function attr(attrs: readonly KeyValueJson[], key: string): AnyValueJson | undefined {
  for (const kv of attrs) if (kv.key === key) return kv.value;
  return undefined;
}

export function isErrorAttr(attrs: readonly KeyValueJson[]): boolean {
  const v = attr(attrs, 'error');
  return v !== undefined && (v.boolValue === true || v.stringValue === 'true');
}
