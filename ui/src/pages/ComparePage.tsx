import { useMemo, useState } from 'react';
import { loadTrace, useQuery } from '../app/api.js';
import { ErrorState, Link, ServiceDot, Spinner } from '../components/common.js';
import { diffCounts, diffState, diffTraces, durationDelta, flattenDiff } from '../lib/diff.js';
import { summarize } from '../lib/summary.js';
import { hashColor } from '../lib/color.js';
import { formatDuration } from '../lib/format.js';
import { useVirtual } from './trace/useVirtual.js';
import type { UiTrace } from '../lib/model.js';

const ROW = 26;

export function ComparePage(props: { a: string; b: string }) {
  const q = useQuery(`cmp:${props.a}:${props.b}`, () => Promise.all([loadTrace(props.a), loadTrace(props.b)]));
  if (q.status === 'loading') return <Spinner label="Loading both traces…" />;
  if (q.status === 'error') return <div className="page-pad"><ErrorState error={q.error} what="the traces to compare" /></div>;
  return <CompareView a={q.data[0]} b={q.data[1]} />;
}

function CompareView(props: { a: UiTrace; b: UiTrace }) {
  const { a, b } = props;
  const tree = useMemo(() => diffTraces(a, b), [a, b]);
  const counts = useMemo(() => diffCounts(tree), [tree]);
  const sa = useMemo(() => summarize(a), [a]);
  const sb = useMemo(() => summarize(b), [b]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [filter, setFilter] = useState<'all' | 'changed'>('all');
  const flat = useMemo(() => {
    const f = flattenDiff(tree, collapsed);
    return filter === 'all' ? f : f.filter((x) => diffState(x.node) !== 'both' || Math.abs(durationDelta(x.node) ?? 0) > 0);
  }, [tree, collapsed, filter]);
  const v = useVirtual(flat.length, ROW);
  const rows = [];
  for (let r = v.first; r <= v.last; r++) {
    const { node, path } = flat[r]!;
    const st = diffState(node);
    const d = durationDelta(node);
    const pct = d !== undefined && node.a ? (d / Math.max(1e-9, node.a.totalUs / node.a.count)) * 100 : undefined;
    rows.push(
      <div key={path} className={`cmp-row cmp-${st}`} style={{ transform: `translateY(${(r + 1) * ROW}px)` }} data-testid="compare-row" data-state={st}>
        <div className="tl-name" style={{ paddingLeft: 6 + node.depth * 14 }}>
          {node.children.length > 0 ? (
            <button className="tl-toggle" onClick={() => setCollapsed((c) => {
              const n = new Set(c);
              if (n.has(path)) n.delete(path);
              else n.add(path);
              return n;
            })}>{collapsed.has(path) ? '▸' : '▾'}</button>
          ) : (
            <span className="tl-toggle-space" />
          )}
          <ServiceDot color={hashColor(node.service)} />
          <span className="tl-svc">{node.service}</span>
          <span className="tl-op">{node.operation}</span>
        </div>
        <span className="cmp-badge">{st === 'a-only' ? 'only in A' : st === 'b-only' ? 'only in B' : 'both'}</span>
        <span className="num">{node.a ? `${node.a.count}× ${formatDuration(node.a.totalUs / node.a.count)}` : '—'}</span>
        <span className="num">{node.b ? `${node.b.count}× ${formatDuration(node.b.totalUs / node.b.count)}` : '—'}</span>
        <span className={`num ${d === undefined ? '' : d > 0 ? 'slower' : d < 0 ? 'faster' : ''}`}>
          {d === undefined ? '' : `${d > 0 ? '+' : ''}${formatDuration(d)}${pct !== undefined && Number.isFinite(pct) ? ` (${pct > 0 ? '+' : ''}${pct.toFixed(0)}%)` : ''}`}
        </span>
      </div>,
    );
  }
  return (
    <div className="compare-page" data-testid="compare-page">
      <div className="compare-head">
        {[['A', sa, 'cmp-a'] as const, ['B', sb, 'cmp-b'] as const].map(([label, s, cls]) => (
          <div key={label} className={`compare-card ${cls}`}>
            <strong>{label}</strong>{' '}
            <Link to={`/trace/${s.traceId}`}>
              {s.rootService}: {s.rootName}
            </Link>
            <div className="muted small mono">{s.traceId}</div>
            <div>{formatDuration(s.durationUs)} · {s.spanCount} spans · {s.errorCount} errors</div>
          </div>
        ))}
      </div>
      <div className="toolbar">
        <span className="legend-item"><span className="swatch cmp-a-only" /> only in A: {counts['a-only']}</span>
        <span className="legend-item"><span className="swatch cmp-b-only" /> only in B: {counts['b-only']}</span>
        <span className="legend-item"><span className="swatch cmp-both" /> in both: {counts.both}</span>
        <span className="spacer" />
        <label className="inline">
          Show
          <select value={filter} onChange={(e) => setFilter(e.target.value as 'all' | 'changed')}>
            <option value="all">all nodes</option>
            <option value="changed">only differences</option>
          </select>
        </label>
      </div>
      <div className="compare-list" ref={v.ref} onScroll={v.onScroll}>
        <div style={{ height: v.totalHeight + ROW, position: 'relative' }}>
          <div className="cmp-row cmp-head">
            <div className="tl-name">Service &amp; operation (matched by path)</div>
            <span>In</span>
            <span className="num">A: count × mean</span>
            <span className="num">B: count × mean</span>
            <span className="num">B − A</span>
          </div>
          {rows}
        </div>
      </div>
    </div>
  );
}
