import { useMemo, useState } from 'react';
import type { TraceView } from '../../lib/trace-model.js';
import { operationStats, serviceStats, type OperationStats } from '../../lib/stats.js';
import { formatDuration } from '../../lib/format.js';
import { ServiceDot } from '../../components/common.js';

type Col = keyof Pick<OperationStats, 'service' | 'operation' | 'count' | 'errors' | 'totalUs' | 'avgUs' | 'minUs' | 'maxUs' | 'selfTotalUs'>;

/** Per service / per operation statistics: counts, errors, total, average, min, max and self time. */
export function StatsView(props: { view: TraceView }) {
  const { trace, tree, colors } = props.view;
  const [by, setBy] = useState<'operation' | 'service'>('operation');
  const [sort, setSort] = useState<{ col: Col; desc: boolean }>({ col: 'selfTotalUs', desc: true });
  const ops = useMemo(() => operationStats(trace.spans, tree), [trace, tree]);
  const rows = useMemo(() => {
    const base = by === 'operation' ? ops : serviceStats(ops);
    const l = [...base];
    l.sort((a, b) => {
      const x = a[sort.col];
      const y = b[sort.col];
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -c : c;
    });
    return l;
  }, [ops, by, sort]);
  const total = trace.endUs - trace.startUs;
  const th = (col: Col, label: string) => (
    <th>
      <button className="th" onClick={() => setSort((s) => ({ col, desc: s.col === col ? !s.desc : true }))}>
        {label} {sort.col === col ? (sort.desc ? '▼' : '▲') : ''}
      </button>
    </th>
  );
  return (
    <div className="stats" data-testid="stats-view">
      <div className="toolbar">
        <label className="inline">
          Group by
          <select value={by} onChange={(e) => setBy(e.target.value as 'operation' | 'service')}>
            <option value="operation">Service and operation</option>
            <option value="service">Service</option>
          </select>
        </label>
        <span className="muted">Self time: time in the span not covered by its children. % of the trace's duration.</span>
      </div>
      <table className="grid">
        <thead>
          <tr>
            {th('service', 'Service')}
            {by === 'operation' && th('operation', 'Operation')}
            {th('count', 'Spans')}
            {th('errors', 'Errors')}
            {th('totalUs', 'Total')}
            {th('avgUs', 'Avg')}
            {th('minUs', 'Min')}
            {th('maxUs', 'Max')}
            {th('selfTotalUs', 'Self time')}
            <th>Self %</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.service}/${r.operation}`}>
              <td><ServiceDot color={colors.get(r.service) ?? '#888'} />{r.service}</td>
              {by === 'operation' && <td>{r.operation}</td>}
              <td className="num">{r.count}</td>
              <td className={`num ${r.errors ? 'text-error' : ''}`}>{r.errors}</td>
              <td className="num">{formatDuration(r.totalUs)}</td>
              <td className="num">{formatDuration(r.avgUs)}</td>
              <td className="num">{formatDuration(r.minUs)}</td>
              <td className="num">{formatDuration(r.maxUs)}</td>
              <td className="num">{formatDuration(r.selfTotalUs)}</td>
              <td className="num">
                <span className="pct-bar" style={{ width: `${Math.min(100, (r.selfTotalUs / Math.max(1e-9, total)) * 100)}%` }} />
                {((r.selfTotalUs / Math.max(1e-9, total)) * 100).toFixed(1)}%
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
