/**
 * Adjusters applied to traces before the query APIs return them (unless the client asks for raw
 * traces), after Jaeger v2's standard adjusters:
 * - deduplicateSpans: identical copies of a span (at-least-once writes) are returned once;
 * - removeEmptyLinks: links without a trace or span id are dropped;
 * - correctClockSkew: a child span from another host that does not fit in its parent is shifted
 *   (by at most `maxDelta`; 0 disables shifting and only reports the delta as a warning, as Jaeger
 *   does); spans whose parent is missing get a warning ("incomplete trace");
 * - limitTraceSize: traces above `maxTraceSize` spans are truncated, with a warning.
 */
import type { InstrumentationScope, KeyValue, Resource, Span, SpanId } from '../pdata/model.js';
import { attrsKey, type QueryTrace, type SpanRow } from './model.js';
import { formatGoDuration } from './params.js';

export interface AdjustOptions {
  /** Maximum clock-skew correction in nanoseconds; 0 = report only. */
  readonly maxClockSkewAdjust: bigint;
  /** Maximum spans per trace; 0 = unlimited. */
  readonly maxTraceSize: number;
}

export function adjustTrace(t: QueryTrace, opts: AdjustOptions): void {
  deduplicateSpans(t);
  removeEmptyLinks(t);
  correctClockSkew(t, opts.maxClockSkewAdjust);
  limitTraceSize(t, opts.maxTraceSize);
}

// ---------------------------------------------------------------------------------------------

function fingerprint(r: SpanRow): string {
  return spanFingerprint(r.resource, r.scope, r.span);
}

/** Equal for copies of one span (same resource, scope and content): what deduplicateSpans removes. */
export function spanFingerprint(resource: Resource, scope: InstrumentationScope, s: Span): string {
  return [
    attrsKey(resource.attributes),
    scope.name,
    scope.version,
    attrsKey(scope.attributes),
    s.parentSpanId,
    s.name,
    s.kind,
    s.startTimeUnixNano,
    s.endTimeUnixNano,
    s.traceState,
    s.flags,
    s.status.code,
    s.status.message,
    attrsKey(s.attributes),
    s.events.map((e) => `${e.timeUnixNano}:${e.name}:${attrsKey(e.attributes)}`).join(';'),
    s.links.map((l) => `${l.traceId}:${l.spanId}:${attrsKey(l.attributes)}`).join(';'),
  ].join('|');
}

export function deduplicateSpans(t: QueryTrace): void {
  const seen = new Map<SpanId, number>();
  let dup = false;
  for (const r of t.rows) {
    const n = (seen.get(r.span.spanId) ?? 0) + 1;
    seen.set(r.span.spanId, n);
    if (n > 1) dup = true;
  }
  if (!dup) return;
  const fps = new Set<string>();
  t.rows = t.rows.filter((r) => {
    if (seen.get(r.span.spanId) === 1) return true;
    const fp = `${r.span.spanId}#${fingerprint(r)}`;
    if (fps.has(fp)) return false;
    fps.add(fp);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------

const isZero = (id: string) => /^0*$/.test(id);

export function removeEmptyLinks(t: QueryTrace): void {
  for (const r of t.rows) {
    if (r.span.links.some((l) => isZero(l.traceId) || isZero(l.spanId))) {
      r.span = { ...r.span, links: r.span.links.filter((l) => !isZero(l.traceId) && !isZero(l.spanId)) };
    }
  }
}

// ---------------------------------------------------------------------------------------------

function attrString(attrs: readonly KeyValue[], key: string): string | undefined {
  const kv = attrs.find((a) => a.key === key);
  if (!kv) return undefined;
  const v = kv.value;
  if ('stringValue' in v) return v.stringValue;
  if ('arrayValue' in v) {
    const first = v.arrayValue.values[0];
    return first && 'stringValue' in first ? first.stringValue : undefined;
  }
  return undefined;
}

/** The host a span ran on (host.id, host.ip, host.name): spans of one host share a clock. */
function hostKey(row: SpanRow): string {
  const a = row.resource.attributes;
  return attrString(a, 'host.id') ?? attrString(a, 'host.ip') ?? attrString(a, 'host.name') ?? '';
}

/**
 * Jaeger's clock-skew adjuster: walks each tree from its root; a span on another host than its
 * parent (or on an unknown host) gets a delta computed against its (already adjusted) parent,
 * which its same-host descendants inherit. Index arrays instead of node objects: 50,000-span traces.
 */
export function correctClockSkew(t: QueryTrace, maxDelta: bigint): void {
  const rows = t.rows;
  const n = rows.length;
  const index = new Map<string, number>();
  const firstChild = new Int32Array(n).fill(-1);
  const nextSibling = new Int32Array(n).fill(-1);
  const parentOf = new Int32Array(n).fill(-1);
  const inTree = new Uint8Array(n);
  const hosts: string[] = new Array<string>(n);
  const hostByResource = new Map<object, string>();
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    if (index.has(row.span.spanId)) {
      row.warnings.push('duplicate span IDs; skipping clock skew adjustment');
      continue;
    }
    index.set(row.span.spanId, i);
    inTree[i] = 1;
    let host = hostByResource.get(row.resource);
    if (host === undefined) hostByResource.set(row.resource, (host = hostKey(row)));
    hosts[i] = host;
  }
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!inTree[i]) continue;
    const parentId = rows[i]!.span.parentSpanId;
    if (parentId === '' || isZero(parentId)) {
      roots.push(i);
      continue;
    }
    const p = index.get(parentId);
    if (p === undefined) {
      rows[i]!.warnings.push(`parent span ID=${parentId} is not in the trace; skipping clock skew adjustment`);
      roots.push(i);
      continue;
    }
    parentOf[i] = p;
    nextSibling[i] = firstChild[p]!;
    firstChild[p] = i;
  }
  // Iterative walk (traces can be deeper than the JS stack); each entry carries the delta and host in force.
  const stack = new Int32Array(n);
  const deltas: bigint[] = new Array<bigint>(n);
  const stackHosts: string[] = new Array<string>(n);
  for (const root of roots) {
    let top = 0;
    stack[0] = root;
    deltas[0] = 0n;
    stackHosts[0] = hosts[root]!;
    top = 1;
    while (top > 0) {
      top--;
      const i = stack[top]!;
      let delta = deltas[top]!;
      let host = stackHosts[top]!;
      const p = parentOf[i]!;
      if (p >= 0 && (hosts[i] !== host || hosts[i] === '')) {
        host = hosts[i]!;
        delta = skewOf(rows[i]!.span, rows[p]!.span);
      }
      if (delta !== 0n) applyDelta(rows[i]!, delta, maxDelta);
      for (let c = firstChild[i]!; c >= 0; c = nextSibling[c]!) {
        stack[top] = c;
        deltas[top] = delta;
        stackHosts[top] = host;
        top++;
      }
    }
  }
}

function skewOf(child: Span, parent: Span): bigint {
  const ps = parent.startTimeUnixNano;
  const pe = parent.endTimeUnixNano;
  const cs = child.startTimeUnixNano;
  const ce = child.endTimeUnixNano;
  const pd = pe - ps;
  const cd = ce - cs;
  if (cd > pd) {
    // The child outlived its parent (async, or the parent timed out): only ensure it does not start earlier.
    return cs < ps ? ps - cs : 0n;
  }
  if (cs >= ps && ce <= pe) return 0n;
  // Network latency assumed split equally between request and response.
  const latency = (pd - cd) / 2n;
  return ps + latency - cs;
}

function applyDelta(row: SpanRow, delta: bigint, maxDelta: bigint): void {
  if (delta === 0n) return;
  const abs = delta < 0n ? -delta : delta;
  if (abs > maxDelta) {
    row.warnings.push(
      maxDelta === 0n
        ? `clock skew adjustment disabled; not applying calculated delta of ${formatGoDuration(delta)}`
        : `max clock skew adjustment delta of ${formatGoDuration(maxDelta)} exceeded; not applying calculated delta of ${formatGoDuration(delta)}`,
    );
    return;
  }
  const s = row.span;
  row.span = {
    ...s,
    startTimeUnixNano: s.startTimeUnixNano + delta,
    endTimeUnixNano: s.endTimeUnixNano + delta,
    events: s.events.map((e) => ({ ...e, timeUnixNano: e.timeUnixNano + delta })),
  };
  row.warnings.push(`This span's timestamps were adjusted by ${formatGoDuration(delta)}`);
}

// ---------------------------------------------------------------------------------------------

export function limitTraceSize(t: QueryTrace, max: number): void {
  if (max <= 0 || t.rows.length <= max) return;
  const total = t.rows.length;
  const kept = [...t.rows].sort((a, b) => (a.span.startTimeUnixNano < b.span.startTimeUnixNano ? -1 : a.span.startTimeUnixNano > b.span.startTimeUnixNano ? 1 : 0)).slice(0, max);
  kept[0]!.warnings.push(`trace has ${total} spans, more than max_trace_size ${max}: the ${total - max} latest spans were dropped`);
  t.rows = kept;
}
