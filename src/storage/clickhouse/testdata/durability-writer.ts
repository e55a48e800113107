/**
 * TEST HELPER (run as a child process by durability.test.ts): writes batches of spans to an
 * embedded store at argv[2], two writes in flight, and prints `ACK <batch>` as soon as the write of
 * a batch has resolved (what a receiver turns into its 200/OK). Runs until killed.
 */
import { ClickHouseStore } from '../clickhouse.js';
import { createDefaultConfig } from '../config.js';
import { baseTime, int, makeResourceSpans, makeSpan, newTraceId, traces } from '../../conformance.js';

const path = process.argv[2]!;
const perBatch = Number(process.argv[3] ?? 500);
const store = new ClickHouseStore({ config: { ...createDefaultConfig(), embedded: { path } }, name: 'durability' });
await store.start();
process.stdout.write('READY\n');
const t0 = baseTime();
let next = 0;
async function writer(): Promise<void> {
  for (;;) {
    const batch = next++;
    const spans = Array.from({ length: perBatch }, (_, i) =>
      makeSpan({ traceId: newTraceId(), name: 'op', start: t0 + BigInt(batch * perBatch + i), attributes: [int('batch', batch)] }),
    );
    await store.writeTraces(traces(makeResourceSpans({ service: 'durable' }, spans)), { tenant: '' });
    process.stdout.write(`ACK ${batch}\n`);
  }
}
await Promise.all([writer(), writer()]);
