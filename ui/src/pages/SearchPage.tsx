import { useMemo, useState, type FormEvent } from 'react';
import { fetchJson, searchTraces, useQuery, type Envelope } from '../app/api.js';
import { navigate, useRoute } from '../app/router.js';
import { EmptyState, ErrorState, Link, ServiceDot, Spinner } from '../components/common.js';
import type { SearchResult } from '../lib/search-results.js';
import { hashColor } from '../lib/color.js';
import { formatAgo, formatDuration, formatTimestamp } from '../lib/format.js';
import {
  defaultSearch, describeSearch, lookbackOptions, searchFromQuery, searchToApiQuery, searchToQuery, validateSearch, type SearchState,
} from '../lib/search-params.js';

type SortKey = 'recent' | 'longest' | 'shortest' | 'most-spans' | 'errors';

function toLocalInput(us: string): string {
  if (!us) return '';
  const d = new Date(Number(us) / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v: string): string {
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? String(t * 1000) : '';
}

function SearchForm(props: { initial: SearchState }) {
  const [form, setForm] = useState<SearchState>(props.initial);
  const [error, setError] = useState<string>('');
  const services = useQuery('services', (signal) => fetchJson<Envelope<string[] | null>>('/api/services', signal));
  const ops = useQuery(form.service ? `ops:${form.service}` : null, (signal) =>
    fetchJson<Envelope<string[] | null>>(`/api/services/${encodeURIComponent(form.service)}/operations`, signal),
  );
  const set = (k: keyof SearchState, v: string) => setForm((f) => ({ ...f, [k]: v, ...(k === 'service' ? { operation: '' } : {}) }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let f = form;
    if (f.lookback === 'custom' && (!f.start || !f.end)) {
      const now = Date.now() * 1000;
      f = { ...f, end: f.end || String(now), start: f.start || String(now - 3.6e9) };
    }
    const v = validateSearch(f);
    if (!v.ok) {
      setError(v.error);
      return;
    }
    setError('');
    // A new search: always push, so the back button returns to the previous results.
    navigate(`/search?${searchToQuery(f).toString()}&_t=${Date.now()}`);
  };
  const serviceList = services.status === 'ok' ? (services.data.data ?? []) : [];
  const opList = ops.status === 'ok' ? (ops.data.data ?? []) : [];
  return (
    <form className="search-form" onSubmit={submit} data-testid="search-form">
      <h2>Search</h2>
      <label>
        Service
        <select value={form.service} onChange={(e) => set('service', e.target.value)} data-testid="service-select">
          <option value="">All services</option>
          {serviceList.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
          {form.service && !serviceList.includes(form.service) && <option value={form.service}>{form.service}</option>}
        </select>
      </label>
      {services.status === 'error' && <p className="field-error">{services.error.kind === 'unreachable' ? 'Skua is not reachable' : services.error.message}</p>}
      <label>
        Operation
        <select value={form.operation} onChange={(e) => set('operation', e.target.value)} disabled={!form.service} data-testid="operation-select">
          <option value="">All operations</option>
          {opList.map((o) => (
            <option key={o} value={o}>{o}</option>
          ))}
          {form.operation && !opList.includes(form.operation) && <option value={form.operation}>{form.operation}</option>}
        </select>
      </label>
      <label>
        Tags
        <input
          value={form.tags}
          onChange={(e) => set('tags', e.target.value)}
          placeholder="http.status_code=500 error=true"
          title="logfmt: key=value pairs separated by spaces; quote values with spaces"
          data-testid="tags-input"
        />
      </label>
      <label>
        Lookback
        <select value={form.lookback} onChange={(e) => set('lookback', e.target.value)} data-testid="lookback-select">
          {lookbackOptions.map((o) => (
            <option key={o.value} value={o.value}>{o.label}</option>
          ))}
        </select>
      </label>
      {form.lookback === 'custom' && (
        <div className="row2">
          <label>
            From
            <input type="datetime-local" value={toLocalInput(form.start)} onChange={(e) => set('start', fromLocalInput(e.target.value))} />
          </label>
          <label>
            To
            <input type="datetime-local" value={toLocalInput(form.end)} onChange={(e) => set('end', fromLocalInput(e.target.value))} />
          </label>
        </div>
      )}
      <div className="row2">
        <label>
          Min duration
          <input value={form.minDuration} onChange={(e) => set('minDuration', e.target.value)} placeholder="e.g. 1.2s, 100ms" data-testid="min-duration" />
        </label>
        <label>
          Max duration
          <input value={form.maxDuration} onChange={(e) => set('maxDuration', e.target.value)} placeholder="e.g. 1.1s" data-testid="max-duration" />
        </label>
      </div>
      <label>
        Limit results
        <input type="number" min={1} max={1500} value={form.limit} onChange={(e) => set('limit', e.target.value)} data-testid="limit-input" />
      </label>
      {error && <p className="field-error" role="alert">{error}</p>}
      <button type="submit" className="btn btn-primary" data-testid="find-traces">Find Traces</button>
    </form>
  );
}

function ScatterPlot(props: { results: readonly SearchResult[] }) {
  const { results } = props;
  if (results.length === 0) return null;
  const W = 1000;
  const H = 150;
  const pad = 30;
  const t0 = Math.min(...results.map((r) => r.startUs));
  const t1 = Math.max(...results.map((r) => r.startUs));
  const dMax = Math.max(...results.map((r) => r.durationUs), 1);
  const maxSpans = Math.max(...results.map((r) => r.spanCount), 1);
  const x = (t: number) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad) || W / 2;
  const y = (d: number) => H - pad / 2 - (d / dMax) * (H - pad);
  return (
    <svg className="scatter" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label="Trace durations over time" data-testid="scatter-plot">
      <line x1={pad} y1={H - pad / 2} x2={W - pad} y2={H - pad / 2} className="axis" />
      <text x={pad} y={H - 2} className="axis-label">{formatTimestamp(t0).slice(11, 19)}</text>
      <text x={W - pad} y={H - 2} className="axis-label" textAnchor="end">{formatTimestamp(t1).slice(11, 19)}</text>
      <text x={4} y={12} className="axis-label">{formatDuration(dMax)}</text>
      {results.map((r) => (
        <circle
          key={r.traceId}
          cx={x(r.startUs)}
          cy={y(r.durationUs)}
          r={4 + 6 * Math.sqrt(r.spanCount / maxSpans)}
          className={r.errorCount > 0 ? 'pt pt-error' : 'pt'}
          onClick={() => navigate(`/trace/${r.traceId}`)}
        >
          <title>{`${r.rootService}: ${r.rootName}\n${formatDuration(r.durationUs)}, ${r.spanCount} spans`}</title>
        </circle>
      ))}
    </svg>
  );
}

function ResultCard(props: { r: SearchResult; maxDuration: number; checked: boolean; onCheck: (v: boolean) => void }) {
  const { r } = props;
  return (
    <div className={`result ${r.errorCount ? 'has-errors' : ''}`} data-testid="search-result">
      <div className="result-head">
        <input type="checkbox" checked={props.checked} onChange={(e) => props.onCheck(e.target.checked)} title="Select to compare" data-testid="compare-check" />
        <Link to={`/trace/${r.traceId}`} className="result-title">
          <ServiceDot color={hashColor(r.rootService)} />
          <strong>{r.rootService}:</strong> {r.rootName || '(no root span)'}
          <span className="muted mono"> {r.traceId.slice(0, 7)}</span>
        </Link>
        <span className="result-duration">{formatDuration(r.durationUs)}</span>
      </div>
      <div className="result-bar" style={{ width: `${Math.max(1, (r.durationUs / props.maxDuration) * 100)}%` }} />
      <div className="result-body">
        <span className="pill">{r.spanCount} spans</span>
        {r.errorCount > 0 && <span className="pill pill-error">{r.errorCount} error{r.errorCount === 1 ? '' : 's'}</span>}
        {r.incomplete && <span className="pill pill-warn" title="incomplete trace: parent span not received">incomplete</span>}
        {r.services.slice(0, 8).map((s) => (
          <span key={s.service} className="pill svc" title={`${s.count} spans${s.errors ? `, ${s.errors} errors` : ''}`}>
            <ServiceDot color={hashColor(s.service)} />
            {s.service} ({s.count})
          </span>
        ))}
        {r.services.length > 8 && <span className="pill">+{r.services.length - 8} more</span>}
        <span className="spacer" />
        <span className="muted" title={formatTimestamp(r.startUs)}>{formatTimestamp(r.startUs)} · {formatAgo(r.startUs)}</span>
      </div>
    </div>
  );
}

function sortResults(list: SearchResult[], key: SortKey): SearchResult[] {
  const l = [...list];
  switch (key) {
    case 'recent': return l.sort((a, b) => b.startUs - a.startUs);
    case 'longest': return l.sort((a, b) => b.durationUs - a.durationUs);
    case 'shortest': return l.sort((a, b) => a.durationUs - b.durationUs);
    case 'most-spans': return l.sort((a, b) => b.spanCount - a.spanCount);
    case 'errors': return l.sort((a, b) => b.errorCount - a.errorCount || b.startUs - a.startUs);
  }
}

function Results(props: { search: SearchState; queryKey: string; traceIds: string[] }) {
  const [sort, setSort] = useState<SortKey>('recent');
  const [selected, setSelected] = useState<string[]>([]);
  // One summary per trace, not whole traces: a 50,000-span result must not cost megabytes.
  const res = useQuery(props.queryKey, (signal) => {
    // Jaeger UI's /search?traceID=a&traceID=b lists those traces.
    const q = props.traceIds.length > 0 ? new URLSearchParams(props.traceIds.map((id) => ['traceID', id])) : searchToApiQuery(props.search);
    return searchTraces(q, signal);
  });
  const sorted = useMemo(() => (res.status === 'ok' ? sortResults(res.data, sort) : []), [res, sort]);
  if (res.status === 'loading') return <Spinner label="Searching traces…" />;
  if (res.status === 'error') return <ErrorState error={res.error} what="search results" />;
  if (sorted.length === 0) {
    return (
      <EmptyState title="No traces found" testId="no-results">
        <p>No traces found for {props.traceIds.length > 0 ? `trace id ${props.traceIds.join(', ')}` : describeSearch(props.search)}.</p>
        <p className="muted">Try a longer lookback, fewer tags, or another service.</p>
      </EmptyState>
    );
  }
  const maxD = Math.max(...sorted.map((r) => r.durationUs), 1);
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => (on ? [...s.filter((x) => x !== id), id].slice(-2) : s.filter((x) => x !== id)));
  return (
    <div className="results" data-testid="results">
      <ScatterPlot results={sorted} />
      <div className="results-toolbar">
        <strong data-testid="result-count">{sorted.length} Trace{sorted.length === 1 ? '' : 's'}</strong>
        <span className="spacer" />
        <button
          className="btn"
          disabled={selected.length !== 2}
          onClick={() => navigate(`/trace/${selected[0]}...${selected[1]}`)}
          data-testid="compare-button"
          title="Select two traces to compare"
        >
          Compare {selected.length}/2
        </button>
        <label className="inline">
          Sort
          <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)} data-testid="sort-select">
            <option value="recent">Most recent</option>
            <option value="longest">Longest first</option>
            <option value="shortest">Shortest first</option>
            <option value="most-spans">Most spans</option>
            <option value="errors">Most errors</option>
          </select>
        </label>
      </div>
      {sorted.map((r) => (
        <ResultCard key={r.traceId} r={r} maxDuration={maxD} checked={selected.includes(r.traceId)} onCheck={(v) => toggle(r.traceId, v)} />
      ))}
    </div>
  );
}

export function SearchPage() {
  const route = useRoute();
  const search = searchFromQuery(route.query);
  const traceIds = route.query.getAll('traceID').filter((x) => x !== '');
  const hasSearch = route.query.has('service') || route.query.has('lookback') || route.query.has('tags') || traceIds.length > 0;
  const key = route.query.toString();
  return (
    <div className="search-page">
      <aside className="sidebar">
        <SearchForm key={hasSearch ? key : 'initial'} initial={hasSearch ? search : defaultSearch} />
        <div className="sidebar-foot muted">
          Open a trace by id: <TraceIdJump />
        </div>
      </aside>
      <section className="search-results">
        {hasSearch ? (
          <Results search={search} queryKey={key} traceIds={traceIds} />
        ) : (
          <EmptyState title="Find traces" testId="search-intro">
            <p>Choose a service (or all services), then <em>Find Traces</em>. You can also open a trace file from disk under <Link to="/upload">Open file</Link>.</p>
          </EmptyState>
        )}
      </section>
    </div>
  );
}

function TraceIdJump() {
  const [id, setId] = useState('');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const v = id.trim();
        if (v) navigate(`/trace/${v}`);
      }}
    >
      <input value={id} onChange={(e) => setId(e.target.value)} placeholder="trace id" className="mono" data-testid="trace-id-input" />
    </form>
  );
}
