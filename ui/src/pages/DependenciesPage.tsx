import { useMemo, useState } from 'react';
import { fetchJson, useQuery, type Envelope } from '../app/api.js';
import { navigate, setQueryParams, useRoute } from '../app/router.js';
import { EmptyState, ErrorState, Spinner } from '../components/common.js';
import { layoutGraph } from '../lib/graph-layout.js';
import { hashColor } from '../lib/color.js';
import { lookbackMs } from '../lib/search-params.js';

interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
}

const windows = [
  { value: '1h', label: 'Last hour' },
  { value: '6h', label: 'Last 6 hours' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '2d', label: 'Last 2 days' },
  { value: '7d', label: 'Last 7 days' },
];

/** The service map: who calls whom, with call counts, over a selectable window. */
export function DependenciesPage() {
  const route = useRoute();
  const lookback = route.query.get('lookback') ?? '24h';
  const endTs = route.query.get('endTs') ?? '';
  const [refresh, setRefresh] = useState(0);
  const key = `deps:${lookback}:${endTs}:${refresh}`;
  const q = useQuery(key, (signal) => {
    const end = endTs ? Number(endTs) : Date.now();
    const lb = lookbackMs(lookback) ?? 8.64e7;
    return fetchJson<Envelope<DependencyLink[] | null>>(`/api/dependencies?endTs=${end}&lookback=${lb}`, signal);
  });
  return (
    <div className="deps-page page-pad">
      <div className="toolbar">
        <h1>Service map</h1>
        <span className="spacer" />
        <label className="inline">
          Window
          <select value={lookback} onChange={(e) => setQueryParams({ lookback: e.target.value })} data-testid="deps-window">
            {windows.map((w) => (
              <option key={w.value} value={w.value}>{w.label}</option>
            ))}
          </select>
        </label>
        <button className="btn" onClick={() => setRefresh((r) => r + 1)}>Refresh</button>
      </div>
      {q.status === 'loading' && <Spinner label="Loading dependencies…" />}
      {q.status === 'error' && <ErrorState error={q.error} what="the service map" />}
      {q.status === 'ok' && <Graph links={q.data.data ?? []} lookback={lookback} />}
    </div>
  );
}

function Graph(props: { links: DependencyLink[]; lookback: string }) {
  const [hover, setHover] = useState<string | null>(null);
  const layout = useMemo(
    () => layoutGraph([], props.links.map((l) => ({ from: l.parent, to: l.child, weight: l.callCount }))),
    [props.links],
  );
  if (props.links.length === 0) {
    return (
      <EmptyState title="No dependencies" testId="deps-empty">
        <p>No service-to-service calls were recorded in the {windows.find((w) => w.value === props.lookback)?.label.toLowerCase() ?? 'chosen window'}.</p>
      </EmptyState>
    );
  }
  const maxCalls = Math.max(...props.links.map((l) => l.callCount), 1);
  const related = (e: { from: string; to: string }) => hover === null || e.from === hover || e.to === hover;
  return (
    <div className="graph-wrap" data-testid="service-map">
      <svg width={layout.width} height={layout.height + 40} viewBox={`0 -20 ${layout.width} ${layout.height + 40}`} className="graph" role="img" aria-label="Service dependency graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <g key={`${e.from}->${e.to}`} className={`edge${related(e) ? '' : ' dim'}${e.back ? ' back' : ''}`}>
            <path d={`M ${e.x1} ${e.y1} Q ${e.cx} ${e.cy} ${e.x2} ${e.y2}`} strokeWidth={1 + 2.5 * Math.sqrt(e.weight / maxCalls)} markerEnd="url(#arrow)">
              <title>{`${e.from} → ${e.to}: ${e.weight.toLocaleString('en-US')} calls`}</title>
            </path>
            <text x={(e.x1 + 2 * e.cx + e.x2) / 4} y={(e.y1 + 2 * e.cy + e.y2) / 4 - 4} className="edge-label" textAnchor="middle">
              {e.weight.toLocaleString('en-US')}
            </text>
          </g>
        ))}
        {layout.nodes.map((n) => (
          <g
            key={n.id}
            className={`node${hover !== null && hover !== n.id && !layout.edges.some((e) => (e.from === hover && e.to === n.id) || (e.to === hover && e.from === n.id)) ? ' dim' : ''}`}
            transform={`translate(${n.x},${n.y})`}
            onMouseEnter={() => setHover(n.id)}
            onMouseLeave={() => setHover(null)}
            onClick={() => navigate(`/search?service=${encodeURIComponent(n.id)}&lookback=${props.lookback}&limit=20`)}
            data-testid="graph-node"
          >
            <title>{`${n.id}: click to search its traces`}</title>
            <rect width={n.width} height={n.height} rx={8} style={{ stroke: hashColor(n.id) }} />
            <rect width={6} height={n.height} rx={3} style={{ fill: hashColor(n.id) }} />
            <text x={n.width / 2 + 3} y={n.height / 2} dominantBaseline="central" textAnchor="middle">{n.id}</text>
          </g>
        ))}
      </svg>
      <p className="muted small">Arrows point from caller to callee; numbers are calls in the window. Click a service to search its traces.</p>
    </div>
  );
}
