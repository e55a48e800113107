import { useMemo, useState } from 'react';
import type { TraceView } from '../../lib/trace-model.js';
import { spanKindNames, statusNames } from '../../lib/model.js';
import { formatDuration } from '../../lib/format.js';
import { useVirtual } from './useVirtual.js';
import { ServiceDot } from '../../components/common.js';

type Col = 'service' | 'name' | 'start' | 'duration' | 'kind' | 'status';
const ROW = 26;

/** Every span as a sortable, virtualised table. */
export function SpanTable(props: { view: TraceView; matches: ReadonlySet<number>; onSelect: (i: number) => void; selected: number }) {
  const { trace, colors } = props.view;
  const [sort, setSort] = useState<{ col: Col; desc: boolean }>({ col: 'start', desc: false });
  const order = useMemo(() => {
    const idx = Array.from({ length: trace.spans.length }, (_, i) => i);
    const sp = trace.spans;
    const key: Record<Col, (i: number) => number | string> = {
      service: (i) => sp[i]!.service,
      name: (i) => sp[i]!.name,
      start: (i) => sp[i]!.startUs,
      duration: (i) => sp[i]!.durationUs,
      kind: (i) => sp[i]!.kind,
      status: (i) => sp[i]!.status.code,
    };
    const k = key[sort.col];
    idx.sort((a, b) => {
      const x = k(a);
      const y = k(b);
      const c = x < y ? -1 : x > y ? 1 : sp[a]!.startUs - sp[b]!.startUs;
      return sort.desc ? -c : c;
    });
    return idx;
  }, [trace, sort]);
  const v = useVirtual(order.length, ROW);
  const head = (col: Col, label: string) => (
    <button className="th" onClick={() => setSort((s) => ({ col, desc: s.col === col ? !s.desc : col === 'duration' }))}>
      {label} {sort.col === col ? (sort.desc ? '▼' : '▲') : ''}
    </button>
  );
  const rows = [];
  for (let r = v.first; r <= v.last; r++) {
    const i = order[r]!;
    const s = trace.spans[i]!;
    rows.push(
      <div
        key={i}
        className={`st-row${props.matches.has(i) ? ' match' : ''}${i === props.selected ? ' selected' : ''}${s.error ? ' error' : ''}`}
        style={{ transform: `translateY(${(r + 1) * ROW}px)` }}
        onClick={() => props.onSelect(i)}
      >
        <span><ServiceDot color={colors.get(s.service) ?? '#888'} />{s.service}</span>
        <span>{s.name}</span>
        <span className="num">+{formatDuration(s.startUs - trace.startUs)}</span>
        <span className="num">{formatDuration(s.durationUs)}</span>
        <span>{spanKindNames[s.kind]}</span>
        <span className={s.status.code === 2 ? 'text-error' : ''}>{statusNames[s.status.code]}</span>
        <span className="mono">{s.spanId}</span>
      </div>,
    );
  }
  return (
    <div className="span-table" ref={v.ref} onScroll={v.onScroll} data-testid="span-table">
      <div style={{ height: v.totalHeight + ROW, position: 'relative' }}>
        <div className="st-row st-head">
          {head('service', 'Service')}
          {head('name', 'Operation')}
          {head('start', 'Start')}
          {head('duration', 'Duration')}
          {head('kind', 'Kind')}
          {head('status', 'Status')}
          <span>Span id</span>
        </div>
        {rows}
      </div>
    </div>
  );
}
