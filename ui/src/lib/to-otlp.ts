import type { UiResource, UiScope, UiTrace } from './model.js';

function micros(us: number): string {
  const whole = Math.floor(us);
  const frac = Math.round((us - whole) * 1000);
  return frac === 0 ? `${whole}000` : `${whole}${String(frac).padStart(3, '0')}`;
}

/** The trace as OTLP JSON (TracesData), grouped by resource and scope: for raw views and downloads
 * of traces that came from files. */
export function toOtlpJson(trace: UiTrace): unknown {
  const byRes = new Map<UiResource, Map<UiScope, unknown[]>>();
  for (const s of trace.spans) {
    let scopes = byRes.get(s.resource);
    if (!scopes) byRes.set(s.resource, (scopes = new Map()));
    let list = scopes.get(s.scope);
    if (!list) scopes.set(s.scope, (list = []));
    list.push({
      traceId: s.traceId,
      spanId: s.spanId,
      ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
      ...(s.traceState ? { traceState: s.traceState } : {}),
      ...(s.flags ? { flags: s.flags } : {}),
      name: s.name,
      kind: s.kind,
      startTimeUnixNano: micros(s.startUs),
      endTimeUnixNano: micros(s.startUs + s.durationUs),
      attributes: s.warnings.length > 0 ? [...s.attributes, { key: '@jaeger@warnings', value: { arrayValue: { values: s.warnings.map((w) => ({ stringValue: w })) } } }] : s.attributes,
      events: s.events.map((e) => ({ timeUnixNano: micros(e.timeUs), name: e.name, attributes: e.attributes })),
      links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes })),
      status: { code: s.status.code, ...(s.status.message ? { message: s.status.message } : {}) },
    });
  }
  return {
    resourceSpans: [...byRes].map(([res, scopes]) => ({
      resource: { attributes: res.attributes },
      scopeSpans: [...scopes].map(([sc, spans]) => ({ scope: { name: sc.name, version: sc.version, attributes: sc.attributes }, spans })),
    })),
  };
}
