import type { ConsumeContext, TracesConsumer } from '../component/consumer.js';
import type { Traces } from '../pdata/traces.js';

/**
 * A TracesConsumer for tests: keeps everything it accepts, or fails on demand (`failWith`), and can
 * be held (`hold()`) so that consumeTraces stays pending until `release()`.
 */
export class SinkConsumer implements TracesConsumer {
  readonly received: { td: Traces; ctx: ConsumeContext }[] = [];
  /** When set, consumeTraces rejects with this error (and keeps nothing). */
  failWith: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  calls = 0;

  async consumeTraces(td: Traces, ctx: ConsumeContext): Promise<void> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    this.received.push({ td, ctx });
  }

  /** Makes later (and pending) consumeTraces calls wait until release(). */
  hold(): void {
    this.gate ??= new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  get spanCount(): number {
    let n = 0;
    for (const r of this.received) n += r.td.spanCount;
    return n;
  }

  reset(): void {
    this.received.length = 0;
    this.calls = 0;
  }
}
