/** Colours for services: distinct within one trace (by sorted index), stable across pages by hash
 * when no list is given. */
const palette = [
  '#3b82f6', '#f59e0b', '#10b981', '#8b5cf6', '#ec4899', '#06b6d4', '#84cc16', '#f97316',
  '#6366f1', '#14b8a6', '#eab308', '#d946ef', '#0ea5e9', '#22c55e', '#a855f7', '#fb7185',
  '#64748b', '#b45309', '#059669', '#7c3aed',
];

export function hashColor(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return palette[(h >>> 0) % palette.length]!;
}

export function serviceColors(services: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(services)].sort();
  const m = new Map<string, string>();
  sorted.forEach((s, i) => m.set(s, i < palette.length ? palette[i]! : hashColor(s)));
  return m;
}
