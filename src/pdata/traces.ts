import type { ResourceSpans } from './model.js';

/**
 * The unit of trace data that flows through a pipeline: what a receiver produces, processors
 * pass on and exporters consume. Immutable once handed to a consumer.
 *
 * A `Traces` may be backed by the OTLP object model or by a compact view over the protobuf bytes a
 * receiver decoded (see `proto-view.ts`), which lets the memory store and the batch processor
 * keep data without materialising millions of small objects. `resourceSpans()` always works: it
 * materialises (and caches) the object model on first use.
 */
export abstract class Traces {
  /** Number of spans in this value. */
  abstract readonly spanCount: number;
  /** The OTLP object model. */
  abstract resourceSpans(): readonly ResourceSpans[];
  /**
   * The parts this value is made of, in order: one for a decoded request, several after a
   * merge (batching). Backends with a fast path inspect parts; others just call resourceSpans().
   */
  abstract parts(): readonly Traces[];

  static fromResourceSpans(resourceSpans: readonly ResourceSpans[]): Traces {
    return new ObjectTraces(resourceSpans);
  }

  /** Concatenates without copying span data. */
  static merge(list: readonly Traces[]): Traces {
    if (list.length === 1) return list[0]!;
    return new MergedTraces(list.flatMap((t) => t.parts()));
  }

  private static emptyValue: Traces | undefined;
  /** The empty value (lazy: the subclasses below are not initialised yet when this class is). */
  static get empty(): Traces {
    return (Traces.emptyValue ??= Traces.fromResourceSpans([]));
  }
}

class ObjectTraces extends Traces {
  readonly spanCount: number;
  constructor(private readonly rs: readonly ResourceSpans[]) {
    super();
    let n = 0;
    for (const r of rs) for (const s of r.scopeSpans) n += s.spans.length;
    this.spanCount = n;
  }
  resourceSpans(): readonly ResourceSpans[] {
    return this.rs;
  }
  parts(): readonly Traces[] {
    return [this];
  }
}

class MergedTraces extends Traces {
  readonly spanCount: number;
  private cached: readonly ResourceSpans[] | undefined;
  constructor(private readonly list: readonly Traces[]) {
    super();
    let n = 0;
    for (const t of list) n += t.spanCount;
    this.spanCount = n;
  }
  resourceSpans(): readonly ResourceSpans[] {
    this.cached ??= this.list.flatMap((t) => t.resourceSpans());
    return this.cached;
  }
  parts(): readonly Traces[] {
    return this.list;
  }
}
