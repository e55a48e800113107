import { useSyncExternalStore } from 'react';

declare global {
  interface Window {
    __SKUA_BASE_PATH__?: string;
  }
}

/** The path prefix the app is served under (jaeger_query's base_path), always ending in '/'. */
export function basePath(): string {
  const b = window.__SKUA_BASE_PATH__ ?? '/';
  return b.endsWith('/') ? b : `${b}/`;
}

/** An app path ('/trace/abc?x=1') as a browser URL under the base path. */
export function href(appPath: string): string {
  return basePath() + appPath.replace(/^\//, '');
}

export interface Route {
  /** The path after the base path, starting with '/'. */
  path: string;
  query: URLSearchParams;
}

function current(): string {
  return window.location.pathname + window.location.search;
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function navigate(appPath: string, opts: { replace?: boolean } = {}): void {
  const url = href(appPath);
  if (url === current()) return;
  if (opts.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

let cachedKey = '';
let cachedRoute: Route = { path: '/', query: new URLSearchParams() };
function snapshot(): Route {
  const key = current();
  if (key !== cachedKey) {
    cachedKey = key;
    const base = basePath();
    let p = window.location.pathname;
    p = p.startsWith(base) ? `/${p.slice(base.length)}` : p;
    cachedRoute = { path: p, query: new URLSearchParams(window.location.search) };
  }
  return cachedRoute;
}

export function useRoute(): Route {
  return useSyncExternalStore(subscribe, snapshot);
}

/** Replaces some query parameters of the current URL (link state lives in the URL). */
export function setQueryParams(changes: Record<string, string | undefined>, replace = true): void {
  const r = snapshot();
  const q = new URLSearchParams(r.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(r.path + (s ? `?${s}` : ''), { replace });
}
