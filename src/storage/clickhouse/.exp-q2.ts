import { newTestStore } from './testutil.js';
import { baseTime, makeResourceSpans, makeSpan, newTraceId, traces, collect } from '../conformance.js';
const s = newTestStore(); await s.start();
const ctx = { tenant: '' };
const SECOND = 1_000_000_000n, HOUR = 3600n * SECOND;
const t0 = baseTime();
const offsets = Array.from({ length: 40 }, (_, i) => (i < 20 ? BigInt(i) * 7n * SECOND : BigInt(i) * 97n * 60n * SECOND + BigInt(i)));
const list = offsets.map((off, i) => ({ id: newTraceId(), start: t0 - off, service: `svc-${i % 4}` }));
let t = performance.now();
for (let i = 0; i < 4; i++) await s.writeTraces(traces(makeResourceSpans({ service: `svc-${i}` }, list.filter((x) => x.service === `svc-${i}`).map((x) => makeSpan({ traceId: x.id, start: x.start })))), ctx);
console.log('write', (performance.now() - t).toFixed(0));
t = performance.now();
const newestFirst = [...list].sort((a, b) => (a.start > b.start ? -1 : 1)).map((x) => x.id);
console.log('sort', (performance.now() - t).toFixed(0));
for (const depth of [1, 2, 5, 19, 20, 21, 39, 40, 100]) {
  t = performance.now();
  const r = (await collect(s.findTraceIds({ searchDepth: depth }, ctx))).map((f) => f.traceId);
  console.log(depth, r.length, (performance.now() - t).toFixed(0), 'ms', JSON.stringify(r) === JSON.stringify(newestFirst.slice(0, depth)));
}
await s.close();
process.exit(0);
