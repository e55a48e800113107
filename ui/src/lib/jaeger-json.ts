import { makeTrace, type AnyValueJson, type KeyValueJson, type UiEvent, type UiLink, type UiResource, type UiScope, type UiSpan, type UiTrace } from './model.js';
import { normalizeId } from './ids.js';

/** Jaeger UI's JSON trace model (API v1 and Jaeger's "download JSON" files). */
export interface JaegerTag {
  key: string;
  type?: string;
  value: unknown;
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: Array<{ refType: string; traceID: string; spanID: string }>;
  flags?: number;
  startTime: number;
  duration: number;
  tags?: JaegerTag[];
  logs?: Array<{ timestamp: number; fields?: JaegerTag[] }>;
  processID?: string;
  process?: { serviceName: string; tags?: JaegerTag[] };
  warnings?: string[] | null;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes?: Record<string, { serviceName: string; tags?: JaegerTag[] }>;
  warnings?: string[] | null;
}

function tagToKv(t: JaegerTag): KeyValueJson {
  const v = t.value;
  let value: AnyValueJson;
  switch ((t.type ?? '').toLowerCase()) {
    case 'bool':
      value = { boolValue: v === true || v === 'true' };
      break;
    case 'int64':
      value = { intValue: typeof v === 'number' ? v : String(v) };
      break;
    case 'float64':
      value = { doubleValue: Number(v) };
      break;
    case 'binary':
      value = { bytesValue: String(v) };
      break;
    default:
      if (typeof v === 'boolean') value = { boolValue: v };
      else if (typeof v === 'number') value = Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
      else value = { stringValue: typeof v === 'string' ? v : JSON.stringify(v) };
  }
  return { key: t.key, value };
}

const kindByTag: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

export function isJaegerJson(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.data)) return o.data.every((t) => typeof t === 'object' && t !== null && Array.isArray((t as JaegerTrace).spans));
  return Array.isArray(o.spans) && typeof o.traceID === 'string';
}

/** `{data: [trace...]}` (API v1 envelope / Jaeger UI download) or one bare trace. */
export function parseJaegerJson(doc: unknown): UiTrace[] {
  const o = doc as { data?: JaegerTrace[] } & Partial<JaegerTrace>;
  const traces: JaegerTrace[] = Array.isArray(o.data) ? o.data : Array.isArray(o.spans) ? [o as JaegerTrace] : [];
  return traces.map(convertJaegerTrace);
}

export function convertJaegerTrace(t: JaegerTrace): UiTrace {
  const resources = new Map<string, UiResource>();
  const resourceFor = (id: string | undefined, inline?: { serviceName: string; tags?: JaegerTag[] }): UiResource => {
    const key = id ?? '';
    let r = resources.get(key);
    if (r) return r;
    const p = inline ?? (id !== undefined ? t.processes?.[id] : undefined);
    const attributes = (p?.tags ?? []).map(tagToKv);
    const service = p?.serviceName ?? 'unknown_service';
    if (!attributes.some((a) => a.key === 'service.name')) attributes.unshift({ key: 'service.name', value: { stringValue: service } });
    r = { service, attributes };
    resources.set(key, r);
    return r;
  };
  const scopes = new Map<string, UiScope>();
  const traceId = normalizeId(t.traceID, 16);
  const spans: UiSpan[] = t.spans.map((s) => {
    const resource = resourceFor(s.processID, s.process);
    const attributes: KeyValueJson[] = [];
    let kind = 0;
    let statusCode = 0;
    let statusMessage = '';
    let scopeName = '';
    let scopeVersion = '';
    let traceState = '';
    let errorTag = false;
    for (const tag of s.tags ?? []) {
      switch (tag.key) {
        case 'span.kind':
          kind = kindByTag[String(tag.value)] ?? 0;
          continue;
        case 'otel.status_code':
          statusCode = tag.value === 'ERROR' ? 2 : tag.value === 'OK' ? 1 : 0;
          continue;
        case 'otel.status_description':
          statusMessage = String(tag.value);
          continue;
        case 'otel.scope.name':
        case 'otel.library.name':
          scopeName = String(tag.value);
          continue;
        case 'otel.scope.version':
        case 'otel.library.version':
          scopeVersion = String(tag.value);
          continue;
        case 'w3c.tracestate':
          traceState = String(tag.value);
          continue;
        case 'error':
          errorTag = tag.value === true || tag.value === 'true';
          break;
      }
      attributes.push(tagToKv(tag));
    }
    if (errorTag && statusCode === 0) statusCode = 2;
    const scopeKey = `${scopeName}\u0000${scopeVersion}`;
    let scope = scopes.get(scopeKey);
    if (!scope) scopes.set(scopeKey, (scope = { name: scopeName, version: scopeVersion, attributes: [] }));
    let parent = '';
    const links: UiLink[] = [];
    for (const r of s.references ?? []) {
      const rt = normalizeId(r.traceID, 16);
      const rs = normalizeId(r.spanID, 8);
      if (parent === '' && rt === traceId && (r.refType === 'CHILD_OF' || r.refType === 'FOLLOWS_FROM')) {
        parent = rs;
        if (r.refType === 'FOLLOWS_FROM') links.push({ traceId: rt, spanId: rs, type: 'FOLLOWS_FROM (parent)', attributes: [] });
      } else links.push({ traceId: rt, spanId: rs, type: r.refType === 'CHILD_OF' || r.refType === 'FOLLOWS_FROM' ? r.refType : 'link', attributes: [] });
    }
    const events: UiEvent[] = (s.logs ?? []).map((l) => {
      let name = '';
      const attrs: KeyValueJson[] = [];
      for (const f of l.fields ?? []) {
        if (f.key === 'event' && name === '') name = String(f.value);
        else attrs.push(tagToKv(f));
      }
      return { timeUs: l.timestamp, name: name || 'log', attributes: attrs };
    });
    return {
      traceId,
      spanId: normalizeId(s.spanID, 8),
      parentSpanId: parent,
      name: s.operationName,
      kind,
      startUs: s.startTime,
      durationUs: Math.max(0, s.duration),
      service: resource.service,
      resource,
      scope,
      attributes,
      events,
      links,
      status: { code: statusCode, message: statusMessage },
      traceState,
      flags: s.flags ?? 0,
      error: statusCode === 2,
      warnings: s.warnings ?? [],
    };
  });
  return makeTrace(traceId, spans, t.warnings ?? []);
}
