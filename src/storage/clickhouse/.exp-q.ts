import { newTestStore } from './testutil.js';
import { baseTime, makeResourceSpans, makeSpan, newTraceId, traces, collect } from '../conformance.js';
const s = newTestStore(); await s.start();
const ctx = { tenant: '' };
const SECOND = 1_000_000_000n, HOUR = 3600n * SECOND;
const t0 = baseTime();
const offsets = Array.from({ length: 40 }, (_, i) => (i < 20 ? BigInt(i) * 7n * SECOND : BigInt(i) * 97n * 60n * SECOND + BigInt(i)));
const list = offsets.map((off, i) => ({ id: newTraceId(), start: t0 - off, service: `svc-${i % 4}` }));
for (let i = 0; i < 4; i++) await s.writeTraces(traces(makeResourceSpans({ service: `svc-${i}` }, list.filter((x) => x.service === `svc-${i}`).map((x) => makeSpan({ traceId: x.id, start: x.start })))), ctx);
let queries = 0;
const orig = s.clickhouse.query.bind(s.clickhouse);
(s.clickhouse as any).query = (p: any) => { queries++; return orig(p); };
for (const depth of [1, 2, 5, 19, 20, 21, 39, 40, 100]) {
  const t = performance.now(); queries = 0;
  const r = await collect(s.findTraceIds({ searchDepth: depth }, ctx));
  console.log(depth, r.length, (performance.now() - t).toFixed(0), 'ms', queries, 'queries');
}
await s.close();
process.exit(0);
