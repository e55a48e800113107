import { useEffect, useState } from 'react';
import { href } from './router.js';
import { convertJaegerTrace, parseJaegerJson, type JaegerTrace } from '../lib/jaeger-json.js';
import { parseOtlpJson } from '../lib/otlp-json.js';
import type { UiTrace } from '../lib/model.js';
import { parseTraceSummaries, resultFromSummary, type SearchResult } from '../lib/search-results.js';
import { summarize } from '../lib/summary.js';

/** Why a request failed, in the terms the UI shows. */
export type ApiFailure =
  | { kind: 'unreachable'; message: string }
  | { kind: 'not-found'; message: string }
  | { kind: 'http'; status: number; message: string }
  | { kind: 'bad-response'; message: string };

export class ApiError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.message);
  }
}

export async function fetchJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return readJson<T>(fetch(href(path), { signal: signal ?? null, headers: { accept: 'application/json' } }), path);
}

/** The JSON body of a response, or an ApiError that says what went wrong in the user's terms. */
async function readJson<T>(response: Promise<Response>, path: string): Promise<T> {
  let res: Response;
  try {
    res = await response;
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({ kind: 'unreachable', message: 'Skua is not reachable' });
  }
  if ([502, 503, 504].includes(res.status) && !(res.headers.get('content-type') ?? '').includes('json')) {
    throw new ApiError({ kind: 'unreachable', message: `Skua is not reachable (HTTP ${res.status})` });
  }
  if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError({ kind: 'bad-response', message: `the response to ${path} is not valid JSON` });
    }
  }
  let body: unknown;
  const text = await res.text();
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    if (!res.ok) throw new ApiError(res.status === 404 ? { kind: 'not-found', message: text.slice(0, 300) || 'not found' } : { kind: 'http', status: res.status, message: text.slice(0, 300) || `HTTP ${res.status}` });
    throw new ApiError({ kind: 'bad-response', message: `the response to ${path} is not JSON` });
  }
  if (!res.ok) {
    const msg = errorMessage(body) ?? `HTTP ${res.status}`;
    if (res.status === 404) throw new ApiError({ kind: 'not-found', message: msg });
    throw new ApiError({ kind: 'http', status: res.status, message: msg });
  }
  return body as T;
}

declare global {
  interface Window {
    /** Started by index.html before the app's code loads, when the page is /trace/{id}. */
    __SKUA_PREFETCH__?: { id: string; response: Promise<Response> };
  }
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const o = body as { errors?: Array<{ msg?: string; message?: string }>; error?: { message?: string } | string; message?: string };
  if (Array.isArray(o.errors) && o.errors.length > 0) return o.errors.map((e) => e.msg ?? e.message ?? '').join('; ');
  if (typeof o.error === 'string') return o.error;
  if (o.error && typeof o.error.message === 'string') return o.error.message;
  if (typeof o.message === 'string') return o.message;
  return undefined;
}

export interface Envelope<T> {
  data: T;
  total?: number;
  errors?: Array<{ code?: number; msg?: string }> | null;
}

// Traces opened from a file are kept here (never stored in Skua) and take precedence over the API.
const uploaded = new Map<string, UiTrace>();
export function addUploadedTraces(traces: readonly UiTrace[]): void {
  for (const t of traces) uploaded.set(t.traceId, t);
}
export function uploadedTrace(id: string): UiTrace | undefined {
  return uploaded.get(id.toLowerCase());
}
export function uploadedTraces(): UiTrace[] {
  return [...uploaded.values()];
}

/**
 * Search results for /api/traces parameters (a search, or `traceID=…` repeated): one summary per
 * trace from Skua's /api/skua/trace-summaries. A query API without that route (an older Skua, or
 * Jaeger behind the dev server's proxy) answers 404 or its UI page: then whole traces from
 * /api/traces are summarised here, as before.
 */
export async function searchTraces(q: URLSearchParams, signal?: AbortSignal): Promise<SearchResult[]> {
  try {
    return parseTraceSummaries(await fetchJson<unknown>(`/api/skua/trace-summaries?${q.toString()}`, signal));
  } catch (e) {
    if (!(e instanceof ApiError) || (e.failure.kind !== 'not-found' && e.failure.kind !== 'bad-response')) throw e;
  }
  const env = await fetchJson<Envelope<JaegerTrace[] | null>>(`/api/traces?${q.toString()}`, signal);
  return (env.data ?? []).map((t) => resultFromSummary(summarize(convertJaegerTrace(t))));
}

const traceCache = new Map<string, Promise<UiTrace>>();

/**
 * One trace by id: a trace from an uploaded file, else API v3 (OTLP JSON: resource, scope, kind,
 * status and links as they were sent), else API v1 (Jaeger JSON).
 */
export function loadTrace(id: string): Promise<UiTrace> {
  const key = id.toLowerCase();
  const up = uploaded.get(key);
  if (up) return Promise.resolve(up);
  let p = traceCache.get(key);
  if (!p) {
    p = (async () => {
      let traces: UiTrace[];
      try {
        const path = `/api/v3/traces/${encodeURIComponent(key)}`;
        const pre = window.__SKUA_PREFETCH__;
        window.__SKUA_PREFETCH__ = undefined;
        const doc = pre && pre.id === key ? await readJson<unknown>(pre.response, path) : await fetchJson<unknown>(path);
        performance.mark('skua:trace-fetched');
        traces = parseOtlpJson(doc);
        performance.mark('skua:trace-parsed');
      } catch (e) {
        if (!(e instanceof ApiError) || e.failure.kind === 'unreachable') throw e;
        const doc = await fetchJson<unknown>(`/api/traces/${encodeURIComponent(key)}`);
        performance.mark('skua:trace-fetched');
        traces = parseJaegerJson(doc);
        performance.mark('skua:trace-parsed');
      }
      const t = traces.find((x) => x.traceId === key) ?? traces[0];
      if (!t || t.spans.length === 0) throw new ApiError({ kind: 'not-found', message: `trace ${id} not found` });
      return t;
    })();
    traceCache.set(key, p);
    // Keep the few most recent traces (back/forward, compare) — not every trace ever opened.
    while (traceCache.size > 6) traceCache.delete(traceCache.keys().next().value!);
    p.catch(() => traceCache.delete(key));
  }
  return p;
}

export type QueryState<T> = { status: 'loading' } | { status: 'error'; error: ApiFailure } | { status: 'ok'; data: T };

/** A tiny query hook: re-runs when `key` changes, aborts stale requests. */
export function useQuery<T>(key: string | null, fn: (signal: AbortSignal) => Promise<T>): QueryState<T> {
  const [state, setState] = useState<{ key: string | null; s: QueryState<T> }>({ key, s: { status: 'loading' } });
  useEffect(() => {
    if (key === null) return;
    const ac = new AbortController();
    setState({ key, s: { status: 'loading' } });
    fn(ac.signal).then(
      (data) => !ac.signal.aborted && setState({ key, s: { status: 'ok', data } }),
      (e: unknown) => {
        if (ac.signal.aborted) return;
        const failure: ApiFailure = e instanceof ApiError ? e.failure : { kind: 'bad-response', message: e instanceof Error ? e.message : String(e) };
        setState({ key, s: { status: 'error', error: failure } });
      },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state.key === key ? state.s : { status: 'loading' };
}
