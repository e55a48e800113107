import { useCallback, useEffect, useRef, useState, type RefObject, type UIEvent } from 'react';

/**
 * Fixed-height row virtualisation: only the rows in the viewport (plus overscan) are rendered,
 * so a 50,000-row list costs the same to paint and scroll as a 50-row one.
 */
export function useVirtual(count: number, rowHeight: number, overscan = 12): {
  ref: RefObject<HTMLDivElement | null>;
  onScroll: (e: UIEvent<HTMLDivElement>) => void;
  first: number;
  last: number;
  totalHeight: number;
  viewportHeight: number;
  scrollToRow: (row: number, align?: 'auto' | 'center') => void;
} {
  const ref = useRef<HTMLDivElement | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewportHeight, setViewportHeight] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setViewportHeight(el.clientHeight || 800);
    const ro = new ResizeObserver(() => setViewportHeight(el.clientHeight || 800));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const onScroll = useCallback((e: UIEvent<HTMLDivElement>) => setScrollTop(e.currentTarget.scrollTop), []);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count - 1, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  const scrollToRow = useCallback(
    (row: number, align: 'auto' | 'center' = 'auto') => {
      const el = ref.current;
      if (!el) return;
      const top = row * rowHeight;
      const h = el.clientHeight;
      const headerPad = rowHeight; // sticky header inside the scroller
      if (align === 'center') el.scrollTop = Math.max(0, top - h / 2);
      else if (top < el.scrollTop + headerPad) el.scrollTop = Math.max(0, top - headerPad);
      else if (top + rowHeight > el.scrollTop + h) el.scrollTop = top + rowHeight - h;
      setScrollTop(el.scrollTop);
    },
    [rowHeight],
  );
  return { ref, onScroll, first, last, totalHeight: count * rowHeight, viewportHeight, scrollToRow };
}
