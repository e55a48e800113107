import { anyValueToString, spanKindNames, type KeyValueJson, type UiSpan } from './model.js';

/**
 * Find within a trace, as Jaeger UI's "find": whitespace-separated terms, all of which must match
 * (case-insensitively) somewhere in the span: service, operation, ids, kind, status, attribute /
 * resource / event text; `key=value` terms match an attribute exactly.
 */
export class SpanFinder {
  private texts: string[] | undefined;
  private kvs: Array<Set<string>> | undefined;
  constructor(private readonly spans: readonly UiSpan[]) {}

  private index(): void {
    if (this.texts) return;
    const texts: string[] = new Array(this.spans.length);
    const kvs: Array<Set<string>> = new Array(this.spans.length);
    for (let i = 0; i < this.spans.length; i++) {
      const s = this.spans[i]!;
      const kv = new Set<string>();
      const parts: string[] = [s.service, s.name, s.spanId, spanKindNames[s.kind] ?? '', s.status.message];
      const add = (attrs: readonly KeyValueJson[]): void => {
        for (const a of attrs) {
          const v = anyValueToString(a.value);
          parts.push(a.key, v);
          kv.add(`${a.key}=${v}`.toLowerCase());
        }
      };
      add(s.attributes);
      add(s.resource.attributes);
      for (const e of s.events) {
        parts.push(e.name);
        add(e.attributes);
      }
      if (s.error) kv.add('error=true');
      texts[i] = parts.join('\u0001').toLowerCase();
      kvs[i] = kv;
    }
    this.texts = texts;
    this.kvs = kvs;
  }

  /** Indices of matching spans, ascending. Empty query => no matches. */
  find(query: string): number[] {
    const terms = query.trim().toLowerCase().split(/\s+/).filter((t) => t !== '');
    if (terms.length === 0) return [];
    this.index();
    const out: number[] = [];
    const texts = this.texts!;
    const kvs = this.kvs!;
    for (let i = 0; i < texts.length; i++) {
      let ok = true;
      for (const t of terms) {
        const eq = t.indexOf('=');
        if (eq > 0 ? !kvs[i]!.has(t) && !texts[i]!.includes(t) : !texts[i]!.includes(t)) {
          ok = false;
          break;
        }
      }
      if (ok) out.push(i);
    }
    return out;
  }
}
