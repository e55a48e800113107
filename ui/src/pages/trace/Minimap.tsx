import { useEffect, useRef, useState, type PointerEvent } from 'react';
import type { TraceView } from '../../lib/trace-model.js';
import { formatDuration, ticks } from '../../lib/format.js';

/**
 * The whole trace in a strip (spans by pre-order position and time). Drag across it to zoom the
 * timeline to that time range; the current range is shown unshaded.
 */
export function Minimap(props: { view: TraceView; range: [number, number]; onRange: (r: [number, number]) => void }) {
  const { view, range, onRange } = props;
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const wrapRef = useRef<HTMLDivElement | null>(null);
  const [drag, setDrag] = useState<{ from: number; to: number } | null>(null);
  const H = 64;
  useEffect(() => {
    const c = canvasRef.current;
    const wrap = wrapRef.current;
    if (!c || !wrap) return;
    let raf = 0;
    const draw = () => {
      const w = wrap.clientWidth;
      const dpr = window.devicePixelRatio || 1;
      c.width = Math.max(1, Math.floor(w * dpr));
      c.height = Math.floor(H * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${H}px`;
      const ctx = c.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, H);
      const { trace, tree, colors } = view;
      const n = tree.size;
      const dur = Math.max(1e-9, trace.endUs - trace.startUs);
      const rowH = Math.max(H / Math.max(1, n), 0.5);
      // Draw in pre-order; skip spans that land on an already-drawn pixel row when dense.
      let lastY = -1;
      let lastX = -1;
      for (let j = 0; j < n; j++) {
        const i = tree.order[j]!;
        const s = trace.spans[i]!;
        const y = Math.floor((j / Math.max(1, n)) * H);
        const x = ((s.startUs - trace.startUs) / dur) * w;
        const ww = Math.max(1, (s.durationUs / dur) * w);
        if (n > 2000 && y === lastY && Math.abs(x - lastX) < 1 && ww <= 1) continue;
        lastY = y;
        lastX = x;
        ctx.fillStyle = s.error ? '#ef4444' : (colors.get(s.service) ?? '#888');
        ctx.fillRect(x, y, ww, Math.max(1, rowH));
      }
    };
    raf = requestAnimationFrame(draw);
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(draw);
    });
    ro.observe(wrap);
    return () => {
      cancelAnimationFrame(raf);
      ro.disconnect();
    };
  }, [view]);
  const frac = (e: PointerEvent<HTMLDivElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
  };
  const [a, b] = drag ? [Math.min(drag.from, drag.to), Math.max(drag.from, drag.to)] : range;
  const dur = view.trace.endUs - view.trace.startUs;
  return (
    <div className="minimap-wrap">
      <div className="minimap-ticks">
        {ticks(dur, 6).map((t) => (
          <span key={t} style={{ left: `${(t / Math.max(1e-9, dur)) * 100}%` }}>{formatDuration(t)}</span>
        ))}
      </div>
      <div
        ref={wrapRef}
        className="minimap"
        data-testid="minimap"
        title="Drag to zoom the timeline to a time range"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          const f = frac(e);
          setDrag({ from: f, to: f });
        }}
        onPointerMove={(e) => drag && setDrag({ from: drag.from, to: frac(e) })}
        onPointerUp={() => {
          if (drag) {
            const lo = Math.min(drag.from, drag.to);
            const hi = Math.max(drag.from, drag.to);
            if (hi - lo > 0.002) onRange([lo, hi]);
          }
          setDrag(null);
        }}
      >
        <canvas ref={canvasRef} />
        <div className="minimap-shade" style={{ left: 0, width: `${a * 100}%` }} />
        <div className="minimap-shade" style={{ left: `${b * 100}%`, right: 0 }} />
        <div className="minimap-window" style={{ left: `${a * 100}%`, width: `${(b - a) * 100}%` }} />
      </div>
    </div>
  );
}
