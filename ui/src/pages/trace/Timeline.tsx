import { memo, useEffect, useLayoutEffect, useRef, type KeyboardEvent } from 'react';
import type { TraceView } from '../../lib/trace-model.js';
import type { CriticalSegment } from '../../lib/critical-path.js';
import { formatDuration, ticks } from '../../lib/format.js';
import { useVirtual } from './useVirtual.js';
import { rowIndexOf } from '../../lib/rows.js';

export const ROW_HEIGHT = 26;

export interface TimelineProps {
  view: TraceView;
  rows: Int32Array;
  collapsed: ReadonlySet<number>;
  onToggle: (span: number) => void;
  selected: number;
  onSelect: (span: number) => void;
  onOpenDetails: () => void;
  range: [number, number];
  critical: Map<number, CriticalSegment[]> | undefined;
  matches: ReadonlySet<number>;
  focusMatch: number;
  /** Bumped to ask the list to scroll the selected row into view. */
  scrollRequest: number;
}

interface RowProps {
  view: TraceView;
  span: number;
  collapsed: boolean;
  selected: boolean;
  match: boolean;
  focus: boolean;
  v0: number;
  v1: number;
  critical: CriticalSegment[] | undefined;
  top: number;
  onToggle: (span: number) => void;
  onSelect: (span: number) => void;
}

const Row = memo(function Row(p: RowProps) {
  const { trace, tree, colors } = p.view;
  const s = trace.spans[p.span]!;
  const depth = tree.depth[p.span]!;
  const hasKids = tree.subtreeSize[p.span]! > 1;
  const orphan = tree.orphan[p.span] === 1;
  const color = colors.get(s.service) ?? '#888';
  const dur = Math.max(1e-9, trace.endUs - trace.startUs);
  const win = p.v1 - p.v0;
  const rel = (us: number) => (((us - trace.startUs) / dur - p.v0) / win) * 100;
  const left = rel(s.startUs);
  const right = rel(s.startUs + s.durationUs);
  const width = Math.max(right - left, 0.15);
  const labelRight = left + width < 75;
  const cls = `tl-row${p.selected ? ' selected' : ''}${p.match ? ' match' : ''}${p.focus ? ' focus-match' : ''}${s.error ? ' error' : ''}`;
  return (
    <div
      className={cls}
      style={{ transform: `translateY(${p.top}px)` }}
      onClick={() => p.onSelect(p.span)}
      data-span-id={s.spanId}
      role="row"
      aria-selected={p.selected}
    >
      <div className="tl-name" style={{ paddingLeft: 6 + depth * 14 }}>
        {hasKids ? (
          <button
            className="tl-toggle"
            onClick={(e) => {
              e.stopPropagation();
              p.onToggle(p.span);
            }}
            aria-label={p.collapsed ? 'Expand' : 'Collapse'}
            aria-expanded={!p.collapsed}
          >
            {p.collapsed ? '▸' : '▾'}
          </button>
        ) : (
          <span className="tl-toggle-space" />
        )}
        <span className="svc-bar" style={{ background: color }} />
        {s.error && <span className="err-mark" title={`error${s.status.message ? `: ${s.status.message}` : ''}`}>!</span>}
        {orphan && <span className="orphan-mark" title="incomplete trace: parent span not received">⚠</span>}
        <span className="tl-svc">{s.service}</span>
        <span className="tl-op">{s.name}</span>
        {p.collapsed && <span className="tl-count">{tree.subtreeSize[p.span]! - 1}</span>}
      </div>
      <div className="tl-bars">
        <div className="tl-bar" style={{ left: `${left}%`, width: `${width}%`, background: color }}>
          {p.critical?.map((c, k) => (
            <div
              key={k}
              className="tl-critical"
              style={{
                left: `${((c.startUs - s.startUs) / Math.max(1e-9, s.durationUs)) * 100}%`,
                width: `${((c.endUs - c.startUs) / Math.max(1e-9, s.durationUs)) * 100}%`,
              }}
            />
          ))}
        </div>
        {s.events.length > 0 && s.events.length <= 20 &&
          s.events.map((e, k) => <div key={k} className="tl-event" style={{ left: `${rel(e.timeUs)}%` }} title={e.name} />)}
        <span className="tl-dur" style={labelRight ? { left: `calc(${left + width}% + 4px)` } : { right: `calc(${100 - left}% + 4px)` }}>
          {formatDuration(s.durationUs)}
        </span>
      </div>
    </div>
  );
});

export function Timeline(p: TimelineProps) {
  const { view, rows } = p;
  const v = useVirtual(rows.length, ROW_HEIGHT);
  const [v0, v1] = p.range;
  const dur = view.trace.endUs - view.trace.startUs;
  const marked = useRef(false);
  // The benchmark's and tests' signal: the first rows are on screen.
  useLayoutEffect(() => {
    if (marked.current || rows.length === 0) return;
    marked.current = true;
    requestAnimationFrame(() =>
      setTimeout(() => {
        performance.mark('skua:first-rows');
        document.body.dataset.firstRowsMs = String(Math.round(performance.now()));
      }, 0),
    );
  }, [rows.length]);
  // Keep the selected row in view when asked (keyboard, find next/previous).
  useEffect(() => {
    if (p.selected < 0) return;
    const r = rowOf(rows, view, p.selected);
    if (r >= 0) v.scrollToRow(r + 1, p.scrollRequest > 0 ? 'auto' : 'center');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.scrollRequest]);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const cur = p.selected >= 0 ? rowOf(rows, view, p.selected) : -1;
    const go = (r: number) => {
      const clamped = Math.max(0, Math.min(rows.length - 1, r));
      const span = rows[clamped];
      if (span !== undefined) p.onSelect(span);
      e.preventDefault();
    };
    const pageRows = Math.max(1, Math.floor(v.viewportHeight / ROW_HEIGHT) - 2);
    switch (e.key) {
      case 'ArrowDown':
      case 'j':
        go(cur + 1);
        break;
      case 'ArrowUp':
      case 'k':
        go(cur < 0 ? 0 : cur - 1);
        break;
      case 'PageDown':
        go(cur + pageRows);
        break;
      case 'PageUp':
        go(cur - pageRows);
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(rows.length - 1);
        break;
      case 'ArrowRight':
      case 'l':
        if (p.selected >= 0) {
          if (p.collapsed.has(p.selected)) p.onToggle(p.selected);
          else if (view.tree.subtreeSize[p.selected]! > 1) go(cur + 1);
          e.preventDefault();
        }
        break;
      case 'ArrowLeft':
      case 'h':
        if (p.selected >= 0) {
          if (view.tree.subtreeSize[p.selected]! > 1 && !p.collapsed.has(p.selected)) p.onToggle(p.selected);
          else {
            const parent = view.tree.parent[p.selected]!;
            if (parent >= 0) p.onSelect(parent);
          }
          e.preventDefault();
        }
        break;
      case 'Enter':
      case ' ':
        if (p.selected >= 0) {
          p.onOpenDetails();
          e.preventDefault();
        }
        break;
    }
  };
  const items = [];
  for (let r = v.first; r <= v.last; r++) {
    const span = rows[r]!;
    items.push(
      <Row
        key={span}
        view={view}
        span={span}
        collapsed={p.collapsed.has(span)}
        selected={span === p.selected}
        match={p.matches.has(span)}
        focus={span === p.focusMatch}
        v0={v0}
        v1={v1}
        critical={p.critical?.get(span)}
        top={(r + 1) * ROW_HEIGHT}
        onToggle={p.onToggle}
        onSelect={p.onSelect}
      />,
    );
  }
  return (
    <div
      className="timeline"
      ref={v.ref}
      onScroll={v.onScroll}
      tabIndex={0}
      onKeyDown={onKey}
      data-testid="timeline"
      role="grid"
      aria-rowcount={rows.length}
      aria-label="Trace timeline: arrow keys move, left/right collapse and expand, Enter shows details"
    >
      <div className="timeline-inner" style={{ height: v.totalHeight + ROW_HEIGHT }}>
        <div className="tl-header">
          <div className="tl-name">Service &amp; Operation</div>
          <div className="tl-bars">
            {ticks(dur * (v1 - v0), 5).map((t) => (
              <span key={t} className="tick" style={{ left: `${(t / Math.max(1e-9, dur * (v1 - v0))) * 100}%` }}>
                {formatDuration(t + dur * v0)}
              </span>
            ))}
          </div>
        </div>
        {items}
      </div>
    </div>
  );
}

function rowOf(rows: Int32Array, view: TraceView, span: number): number {
  return rowIndexOf(view.tree, rows, span);
}
