/**
 * Tag filters in logfmt, as Jaeger UI's search form takes them: `http.status_code=500 error=true
 * db.statement="select 1"`. Returns the key/value map or an error naming the bad part.
 */
export function parseLogfmt(text: string): { ok: true; tags: Record<string, string> } | { ok: false; error: string } {
  const tags: Record<string, string> = {};
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let key = '';
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i]!)) key += s[i++];
    if (key === '') return { ok: false, error: `expected key at position ${i + 1}` };
    if (s[i] !== '=') return { ok: false, error: `"${key}" has no value: write ${key}=value` };
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i++]!;
        if (c === '\\' && i < s.length) value += s[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) return { ok: false, error: `unterminated quote in the value of "${key}"` };
    } else {
      while (i < s.length && !/\s/.test(s[i]!)) value += s[i++];
    }
    tags[key] = value;
  }
  return { ok: true, tags };
}

export function toLogfmt(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => (v === '' || /[\s"=]/.test(v) ? `${k}="${v.replace(/["\\]/g, '\\$&')}"` : `${k}=${v}`))
    .join(' ');
}
