/** Human durations from microseconds: 850μs, 1.23ms, 4.5s, 2m 5s, 1h 2m. */
export function formatDuration(us: number): string {
  if (!Number.isFinite(us)) return '–';
  const neg = us < 0;
  const a = Math.abs(us);
  let s: string;
  if (a < 1) s = `${trim(a * 1000, 0)}ns`;
  else if (a < 1000) s = `${trim(a, a < 10 ? 2 : a < 100 ? 1 : 0)}μs`;
  else if (a < 1e6) s = `${trim(a / 1000, a < 1e4 ? 2 : a < 1e5 ? 1 : 0)}ms`;
  else if (a < 6e7) s = `${trim(a / 1e6, 2)}s`;
  else if (a < 3.6e9) s = `${Math.floor(a / 6e7)}m ${Math.round((a % 6e7) / 1e6)}s`;
  else s = `${Math.floor(a / 3.6e9)}h ${Math.round((a % 3.6e9) / 6e7)}m`;
  return neg ? `-${s}` : s;
}

function trim(v: number, digits: number): string {
  return String(Number(v.toFixed(digits)));
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local date and time of a µs timestamp, with milliseconds. */
export function formatTimestamp(us: number): string {
  const d = new Date(us / 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "5 minutes ago" style relative time, for search results. */
export function formatAgo(us: number, nowMs: number = Date.now()): string {
  const s = Math.round((nowMs - us / 1000) / 1000);
  if (s < 0) return 'in the future';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Evenly spaced "nice" tick values over [0, total] µs: about `count` of them. */
export function ticks(totalUs: number, count = 5): number[] {
  if (!(totalUs > 0)) return [0];
  const raw = totalUs / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= totalUs * 1.0000001; t += step) out.push(t);
  return out;
}
