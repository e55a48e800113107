import { makeTrace, type UiResource, type UiSpan, type UiTrace } from './model.js';

const resources = new Map<string, UiResource>();

/** A compact span builder for unit tests: ids are short names, times in µs. */
export function span(id: string, parent: string, startUs: number, durationUs: number, extra: Partial<UiSpan> = {}): UiSpan {
  const service = extra.service ?? 'svc';
  let resource = resources.get(service);
  if (!resource) resources.set(service, (resource = { service, attributes: [{ key: 'service.name', value: { stringValue: service } }] }));
  return {
    traceId: 't1',
    spanId: id,
    parentSpanId: parent,
    name: extra.name ?? id,
    kind: 1,
    startUs,
    durationUs,
    service,
    resource,
    scope: { name: '', version: '', attributes: [] },
    attributes: [],
    events: [],
    links: [],
    status: { code: 0, message: '' },
    traceState: '',
    flags: 0,
    error: false,
    warnings: [],
    ...extra,
  };
}

export function trace(spans: UiSpan[], id = 't1'): UiTrace {
  return makeTrace(id, spans);
}
