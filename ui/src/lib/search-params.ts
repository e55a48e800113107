import { parseLogfmt, toLogfmt } from './logfmt.js';

/** The search form's state, which lives in the URL as Jaeger UI puts it:
 * /search?service=&operation=&tags=&lookback=&start=&end=&minDuration=&maxDuration=&limit= */
export interface SearchState {
  service: string;
  operation: string;
  /** logfmt, as typed. */
  tags: string;
  /** '5m' … '7d', or 'custom' (then start/end, µs since epoch, apply). */
  lookback: string;
  start: string;
  end: string;
  minDuration: string;
  maxDuration: string;
  limit: string;
}

export const lookbackOptions: ReadonlyArray<{ value: string; label: string }> = [
  { value: '5m', label: 'Last 5 minutes' },
  { value: '15m', label: 'Last 15 minutes' },
  { value: '30m', label: 'Last 30 minutes' },
  { value: '1h', label: 'Last hour' },
  { value: '2h', label: 'Last 2 hours' },
  { value: '6h', label: 'Last 6 hours' },
  { value: '12h', label: 'Last 12 hours' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '2d', label: 'Last 2 days' },
  { value: '7d', label: 'Last 7 days' },
  { value: 'custom', label: 'Custom time range' },
];

export const defaultSearch: SearchState = {
  service: '',
  operation: '',
  tags: '',
  lookback: '1h',
  start: '',
  end: '',
  minDuration: '',
  maxDuration: '',
  limit: '20',
};

/** Milliseconds of a lookback such as 90s, 15m, 1h, 2d, 1w; undefined when malformed. */
export function lookbackMs(lb: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(lb.trim());
  if (!m) return undefined;
  const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|μs|ms|s|m|h))+$/;
export function isGoDuration(s: string): boolean {
  return GO_DURATION.test(s.trim());
}

/** Reads a search from a URL query. `tags` may be JSON (as Jaeger UI writes it) or logfmt. */
export function searchFromQuery(q: URLSearchParams): SearchState {
  const get = (k: keyof SearchState): string => q.get(k) ?? defaultSearch[k];
  let tags = q.get('tags') ?? '';
  const all = q.getAll('tags');
  if (all.length > 1 || tags.trim().startsWith('{')) {
    const merged: Record<string, string> = {};
    for (const t of all) {
      try {
        const o = JSON.parse(t) as Record<string, unknown>;
        for (const [k, v] of Object.entries(o)) merged[k] = String(v);
      } catch {
        const p = parseLogfmt(t);
        if (p.ok) Object.assign(merged, p.tags);
      }
    }
    tags = toLogfmt(merged);
  }
  const st: SearchState = {
    service: get('service'),
    operation: get('operation'),
    tags,
    lookback: get('lookback'),
    start: get('start'),
    end: get('end'),
    minDuration: get('minDuration'),
    maxDuration: get('maxDuration'),
    limit: get('limit'),
  };
  if (st.service === 'all') st.service = '';
  if (st.operation === 'all') st.operation = '';
  return st;
}

/** The URL query of a search (tags JSON-encoded, like Jaeger UI, so old links and new agree). */
export function searchToQuery(s: SearchState): URLSearchParams {
  const q = new URLSearchParams();
  if (s.service) q.set('service', s.service);
  if (s.operation) q.set('operation', s.operation);
  if (s.tags.trim()) {
    const p = parseLogfmt(s.tags);
    q.set('tags', p.ok ? JSON.stringify(p.tags) : s.tags);
  }
  q.set('lookback', s.lookback || '1h');
  if (s.lookback === 'custom') {
    if (s.start) q.set('start', s.start);
    if (s.end) q.set('end', s.end);
  }
  if (s.minDuration) q.set('minDuration', s.minDuration);
  if (s.maxDuration) q.set('maxDuration', s.maxDuration);
  q.set('limit', s.limit || '20');
  return q;
}

export type Validation = { ok: true } | { ok: false; field: keyof SearchState; error: string };

export function validateSearch(s: SearchState): Validation {
  const p = parseLogfmt(s.tags);
  if (!p.ok) return { ok: false, field: 'tags', error: `tags: ${p.error}` };
  if (s.minDuration && !isGoDuration(s.minDuration)) return { ok: false, field: 'minDuration', error: 'min duration: use e.g. 1.2s, 100ms, 500us' };
  if (s.maxDuration && !isGoDuration(s.maxDuration)) return { ok: false, field: 'maxDuration', error: 'max duration: use e.g. 1.2s, 100ms, 500us' };
  if (s.limit && !/^\d+$/.test(s.limit)) return { ok: false, field: 'limit', error: 'limit must be a whole number' };
  if (s.lookback === 'custom') {
    if (!/^\d+$/.test(s.start) || !/^\d+$/.test(s.end)) return { ok: false, field: 'start', error: 'custom range: start and end are required' };
    if (Number(s.start) > Number(s.end)) return { ok: false, field: 'start', error: 'custom range: start is after end' };
  } else if (lookbackMs(s.lookback) === undefined) return { ok: false, field: 'lookback', error: `unknown lookback "${s.lookback}"` };
  return { ok: true };
}

/** The API v1 query (`/api/traces?…`) for a search, at time `nowMs`. */
export function searchToApiQuery(s: SearchState, nowMs: number = Date.now()): URLSearchParams {
  const q = new URLSearchParams();
  if (s.service) q.set('service', s.service);
  if (s.operation) q.set('operation', s.operation);
  const p = parseLogfmt(s.tags);
  if (p.ok && Object.keys(p.tags).length > 0) q.set('tags', JSON.stringify(p.tags));
  let startUs: number;
  let endUs: number;
  if (s.lookback === 'custom' && s.start && s.end) {
    startUs = Number(s.start);
    endUs = Number(s.end);
  } else {
    const lb = lookbackMs(s.lookback) ?? 3.6e6;
    endUs = nowMs * 1000;
    startUs = endUs - lb * 1000;
    q.set('lookback', s.lookback);
  }
  q.set('start', String(Math.floor(startUs)));
  q.set('end', String(Math.ceil(endUs)));
  if (s.minDuration) q.set('minDuration', s.minDuration.trim());
  if (s.maxDuration) q.set('maxDuration', s.maxDuration.trim());
  q.set('limit', s.limit || '20');
  return q;
}

/** Human description of a search for empty states: "service frontend, operation GET /, last hour". */
export function describeSearch(s: SearchState): string {
  const parts: string[] = [s.service ? `service "${s.service}"` : 'all services'];
  if (s.operation) parts.push(`operation "${s.operation}"`);
  if (s.tags.trim()) parts.push(`tags ${s.tags.trim()}`);
  if (s.minDuration) parts.push(`duration ≥ ${s.minDuration}`);
  if (s.maxDuration) parts.push(`duration ≤ ${s.maxDuration}`);
  const lb = lookbackOptions.find((o) => o.value === s.lookback);
  parts.push(s.lookback === 'custom' ? 'in the chosen time range' : (lb?.label ?? `last ${s.lookback}`).toLowerCase());
  return parts.join(', ');
}
