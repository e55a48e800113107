import { useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';
import { loadTrace, uploadedTrace, useQuery } from '../app/api.js';
import { setQueryParams, useRoute } from '../app/router.js';
import { ErrorState, Link, Spinner } from '../components/common.js';
import type { UiTrace } from '../lib/model.js';
import { deriveTraceView, type TraceView } from '../lib/trace-model.js';
import { collapseToDepth, revealSpan, visibleRows } from '../lib/rows.js';
import { criticalPath, segmentsBySpan, type CriticalSegment } from '../lib/critical-path.js';
import { SpanFinder } from '../lib/find.js';
import { TraceHeader } from './trace/TraceHeader.js';
import { Minimap } from './trace/Minimap.js';
import { Timeline } from './trace/Timeline.js';
import { SpanDetails } from './trace/SpanDetails.js';
import { SpanTable } from './trace/SpanTable.js';
import { StatsView } from './trace/StatsView.js';
import { FlameGraph } from './trace/FlameGraph.js';
import { RawJson } from './trace/RawJson.js';

type ViewMode = 'timeline' | 'table' | 'stats' | 'flame' | 'json';
const modes: ReadonlyArray<{ id: ViewMode; label: string }> = [
  { id: 'timeline', label: 'Timeline' },
  { id: 'table', label: 'Span table' },
  { id: 'stats', label: 'Statistics' },
  { id: 'flame', label: 'Flame graph' },
  { id: 'json', label: 'OTLP JSON' },
];

export function TracePage(props: { traceId: string }) {
  const q = useQuery(`trace:${props.traceId}`, () => loadTrace(props.traceId));
  if (q.status === 'loading') return <Spinner label={`Loading trace ${props.traceId}…`} />;
  if (q.status === 'error') {
    return (
      <div className="page-pad">
        <ErrorState error={q.error.kind === 'not-found' ? { ...q.error, message: `Trace ${props.traceId} was not found.` } : q.error} what="the trace" />
        <p><Link to="/search">Back to search</Link></p>
      </div>
    );
  }
  return <TraceViewer trace={q.data} source={uploadedTrace(props.traceId) ? 'upload' : 'api'} />;
}

function TraceViewer(props: { trace: UiTrace; source: 'api' | 'upload' }) {
  const route = useRoute();
  const view: TraceView = useMemo(() => {
    const v = deriveTraceView(props.trace);
    performance.mark('skua:trace-derived');
    return v;
  }, [props.trace]);
  const mode = (modes.find((m) => m.id === route.query.get('view'))?.id ?? 'timeline') as ViewMode;
  const uiFind = route.query.get('uiFind') ?? '';
  const [findText, setFindText] = useState(uiFind);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(() => new Set());
  const [selected, setSelected] = useState(-1);
  const [detailsOpen, setDetailsOpen] = useState(false);
  const [range, setRange] = useState<[number, number]>([0, 1]);
  const [showCritical, setShowCritical] = useState(true);
  const [critical, setCritical] = useState<Map<number, CriticalSegment[]> | undefined>(undefined);
  const [scrollRequest, setScrollRequest] = useState(0);
  const [matchCursor, setMatchCursor] = useState(-1);

  // Critical path after the first rows are painted: it never delays the first paint.
  useEffect(() => {
    const t = setTimeout(() => setCritical(segmentsBySpan(criticalPath(view.trace.spans, view.tree))), 30);
    return () => clearTimeout(t);
  }, [view]);

  const rows = useMemo(() => visibleRows(view.tree, collapsed), [view, collapsed]);
  const finder = useMemo(() => new SpanFinder(view.trace.spans), [view]);
  const deferredFind = useDeferredValue(uiFind);
  const matches = useMemo(() => finder.find(deferredFind), [finder, deferredFind]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  // Matches in timeline order, for next/previous.
  const orderedMatches = useMemo(() => [...matches].sort((a, b) => view.tree.position[a]! - view.tree.position[b]!), [matches, view]);

  const select = useCallback((i: number) => {
    setSelected(i);
    setScrollRequest((n) => n + 1);
  }, []);
  const selectAndOpen = useCallback((i: number) => {
    setSelected(i);
    setDetailsOpen(true);
    setScrollRequest((n) => n + 1);
  }, []);
  const toggle = useCallback((i: number) => {
    setCollapsed((c) => {
      const n = new Set(c);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });
  }, []);
  const gotoMatch = (dir: 1 | -1) => {
    if (orderedMatches.length === 0) return;
    const next = (matchCursor + dir + orderedMatches.length) % orderedMatches.length;
    const span = orderedMatches[next]!;
    setMatchCursor(next);
    setCollapsed((c) => revealSpan(view.tree, c, span));
    setSelected(span);
    setScrollRequest((n) => n + 1);
  };
  useEffect(() => setMatchCursor(-1), [deferredFind]);
  // Debounced URL update for find (link state lives in the URL).
  useEffect(() => {
    if (findText === uiFind) return;
    const t = setTimeout(() => setQueryParams({ uiFind: findText || undefined }), 150);
    return () => clearTimeout(t);
  }, [findText, uiFind]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setDetailsOpen(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const zoomed = range[0] > 0 || range[1] < 1;
  return (
    <div className="trace-page">
      <TraceHeader view={view} source={props.source} />
      <div className="trace-toolbar">
        <div className="tabs" role="tablist">
          {modes.map((m) => (
            <button
              key={m.id}
              role="tab"
              aria-selected={mode === m.id}
              className={`tab${mode === m.id ? ' active' : ''}`}
              onClick={() => setQueryParams({ view: m.id === 'timeline' ? undefined : m.id }, false)}
              data-testid={`view-${m.id}`}
            >
              {m.label}
            </button>
          ))}
        </div>
        <span className="spacer" />
        <form
          className="find"
          onSubmit={(e) => {
            e.preventDefault();
            gotoMatch(1);
          }}
        >
          <input
            value={findText}
            onChange={(e) => setFindText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && e.shiftKey) {
                e.preventDefault();
                gotoMatch(-1);
              }
            }}
            placeholder="Find…"
            aria-label="Find in trace"
            data-testid="find-input"
          />
          <span className="find-count" data-testid="find-count">
            {deferredFind && findText ? `${matchCursor >= 0 ? matchCursor + 1 : 0} of ${matches.length}` : ''}
          </span>
          <button type="button" className="btn btn-small" onClick={() => gotoMatch(-1)} disabled={matches.length === 0} title="Previous match (Shift+Enter)" data-testid="find-prev">↑</button>
          <button type="button" className="btn btn-small" onClick={() => gotoMatch(1)} disabled={matches.length === 0} title="Next match (Enter)" data-testid="find-next">↓</button>
          {findText && <button type="button" className="btn btn-small btn-ghost" onClick={() => setFindText('')} title="Clear">✕</button>}
        </form>
      </div>
      {mode === 'timeline' && (
        <>
          <div className="timeline-controls">
            <label className="inline" title="Highlight the critical path: the chain of work that determined the trace's duration">
              <input type="checkbox" checked={showCritical} onChange={(e) => setShowCritical(e.target.checked)} data-testid="critical-toggle" /> Critical path
              {showCritical && !critical && <span className="spinner small" aria-label="computing" />}
            </label>
            <button className="btn btn-small" onClick={() => setCollapsed(new Set())} data-testid="expand-all">Expand all</button>
            <button className="btn btn-small" onClick={() => setCollapsed(collapseToDepth(view.tree, 1))} data-testid="collapse-all">Collapse to level 1</button>
            {zoomed && <button className="btn btn-small" onClick={() => setRange([0, 1])} data-testid="reset-zoom">Reset zoom</button>}
            <span className="muted small">↑/↓ move · ←/→ collapse/expand · Enter details · drag the minimap to zoom</span>
          </div>
          <Minimap view={view} range={range} onRange={setRange} />
        </>
      )}
      <div className={`trace-body${detailsOpen && selected >= 0 && mode !== 'json' && mode !== 'stats' ? ' with-details' : ''}`}>
        <div className="trace-main">
          {mode === 'timeline' && (
            <Timeline
              view={view}
              rows={rows}
              collapsed={collapsed}
              onToggle={toggle}
              selected={selected}
              onSelect={selectAndOpen}
              onOpenDetails={() => setDetailsOpen((o) => !o)}
              range={range}
              critical={showCritical ? critical : undefined}
              matches={matchSet}
              focusMatch={matchCursor >= 0 ? (orderedMatches[matchCursor] ?? -1) : -1}
              scrollRequest={scrollRequest}
            />
          )}
          {mode === 'table' && <SpanTable view={view} matches={matchSet} selected={selected} onSelect={selectAndOpen} />}
          {mode === 'stats' && <StatsView view={view} />}
          {mode === 'flame' && <FlameGraph view={view} range={range} onRange={setRange} onSelect={selectAndOpen} selected={selected} />}
          {mode === 'json' && <RawJson trace={view.trace} source={props.source} />}
        </div>
        {detailsOpen && selected >= 0 && mode !== 'json' && mode !== 'stats' && (
          <SpanDetails
            view={view}
            span={selected}
            onClose={() => setDetailsOpen(false)}
            onSelect={(i) => {
              setCollapsed((c) => revealSpan(view.tree, c, i));
              select(i);
            }}
            onCritical={critical ? critical.has(selected) : undefined}
          />
        )}
      </div>
    </div>
  );
}
