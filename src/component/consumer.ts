import type { Traces } from '../pdata/traces.js';

/**
 * The next step of a pipeline. `consumeTraces` resolves once the data has been accepted by the
 * next step (for an exporter writing to storage: durably written, as far as that backend promises)
 * and rejects with a `PermanentError` or `RetryableError` otherwise. Implementations never mutate
 * `td`. Receivers acknowledge a request to its sender only after this promise resolves.
 */
export interface TracesConsumer {
  consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void>;
}

/** Request-scoped information that travels with the data (tenant now; auth later). */
export interface ConsumeContext {
  /** The tenant the data belongs to; '' when tenancy is not configured. */
  readonly tenant: string;
}

export const defaultContext: ConsumeContext = Object.freeze({ tenant: '' });

/** Fans out to several consumers; all must accept. Used where a pipeline has several exporters. */
export function fanout(consumers: readonly TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    async consumeTraces(td, ctx) {
      const results = await Promise.allSettled(consumers.map((c) => c.consumeTraces(td, ctx)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
