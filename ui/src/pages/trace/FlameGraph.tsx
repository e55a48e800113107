import { useEffect, useMemo, useRef, useState } from 'react';
import type { TraceView } from '../../lib/trace-model.js';
import { flameRects, type FlameRect } from '../../lib/flame.js';
import { formatDuration } from '../../lib/format.js';

const ROW = 18;

/** Flame graph (icicle, time-ordered): depth down, time across; click selects, double-click zooms. */
export function FlameGraph(props: { view: TraceView; range: [number, number]; onRange: (r: [number, number]) => void; onSelect: (i: number) => void; selected: number }) {
  const { trace, tree, colors } = props.view;
  const wrapRef = useRef<HTMLDivElement | null>(null);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const [width, setWidth] = useState(1000);
  const [hover, setHover] = useState<{ r: FlameRect; x: number; y: number } | null>(null);
  const dur = trace.endUs - trace.startUs;
  const [v0, v1] = props.range;
  const start = trace.startUs + v0 * dur;
  const end = trace.startUs + v1 * dur;
  const rects = useMemo(() => flameRects(trace.spans, tree, start, end, 0.5 / width), [trace, tree, start, end, width]);
  const height = (tree.maxDepth + 1) * ROW + 4;
  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth || 1000));
    ro.observe(el);
    setWidth(el.clientWidth || 1000);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.floor(width * dpr);
    c.height = Math.floor(height * dpr);
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const r of rects) {
      const s = trace.spans[r.span]!;
      const x = r.x * width;
      const w = Math.max(1, r.w * width);
      const y = r.depth * ROW;
      ctx.fillStyle = s.error ? '#ef4444' : (colors.get(s.service) ?? '#888');
      ctx.globalAlpha = r.span === props.selected ? 1 : 0.85;
      ctx.fillRect(x, y, w - (w > 3 ? 1 : 0), ROW - 1);
      if (w > 40) {
        ctx.globalAlpha = 1;
        ctx.fillStyle = '#fff';
        const label = `${s.service}: ${s.name}`;
        const max = Math.floor((w - 6) / 6.2);
        ctx.fillText(label.length > max ? `${label.slice(0, Math.max(0, max - 1))}…` : label, x + 3, y + ROW / 2);
      }
    }
    ctx.globalAlpha = 1;
  }, [rects, width, height, trace, colors, props.selected]);
  const hit = (clientX: number, clientY: number): FlameRect | undefined => {
    const c = canvasRef.current;
    if (!c) return undefined;
    const b = c.getBoundingClientRect();
    const fx = (clientX - b.left) / width;
    const depth = Math.floor((clientY - b.top) / ROW);
    let found: FlameRect | undefined;
    for (const r of rects) if (r.depth === depth && fx >= r.x && fx <= r.x + Math.max(r.w, 1 / width)) found = r;
    return found;
  };
  const hs = hover ? trace.spans[hover.r.span] : undefined;
  return (
    <div className="flame" data-testid="flame-graph">
      <div className="toolbar">
        <span className="muted">Click a span to show its details; double-click to zoom to it.</span>
        {(v0 > 0 || v1 < 1) && <button className="btn" onClick={() => props.onRange([0, 1])}>Reset zoom</button>}
      </div>
      <div className="flame-canvas" ref={wrapRef}>
        <canvas
          ref={canvasRef}
          onMouseMove={(e) => {
            const r = hit(e.clientX, e.clientY);
            setHover(r ? { r, x: e.nativeEvent.offsetX, y: e.nativeEvent.offsetY } : null);
          }}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const r = hit(e.clientX, e.clientY);
            if (r) props.onSelect(r.span);
          }}
          onDoubleClick={(e) => {
            const r = hit(e.clientX, e.clientY);
            if (!r) return;
            const s = trace.spans[r.span]!;
            const a = (s.startUs - trace.startUs) / Math.max(1e-9, dur);
            const b = (s.startUs + s.durationUs - trace.startUs) / Math.max(1e-9, dur);
            if (b > a) props.onRange([a, b]);
          }}
        />
        {hover && hs && (
          <div className="tooltip" style={{ left: Math.min(hover.x + 12, width - 260), top: hover.y + 12 }}>
            <strong>{hs.service}</strong>: {hs.name}
            <br />
            {formatDuration(hs.durationUs)} at +{formatDuration(hs.startUs - trace.startUs)}
          </div>
        )}
      </div>
    </div>
  );
}
