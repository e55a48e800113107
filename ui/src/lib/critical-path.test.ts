import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree } from './tree.js';
import { criticalPath, segmentsBySpan } from './critical-path.js';
import { span } from './testing.js';

test('critical path follows the last-finishing child chain', () => {
  // root 0..100; b 10..40 (with child d 15..35); c 50..90; e 60..70 under c
  const spans = [span('root', '', 0, 100), span('b', 'root', 10, 30), span('d', 'b', 15, 20), span('c', 'root', 50, 40), span('e', 'c', 60, 10)];
  const t = buildTree(spans);
  const segs = criticalPath(spans, t).map((s) => [spans[s.span]!.spanId, s.startUs, s.endUs]);
  assert.deepEqual(segs, [
    ['root', 90, 100],
    ['c', 70, 90],
    ['e', 60, 70],
    ['c', 50, 60],
    ['root', 40, 50],
    ['b', 35, 40],
    ['d', 15, 35],
    ['b', 10, 15],
    ['root', 0, 10],
  ]);
  const total = segs.reduce((s, x) => s + (x[2] as number) - (x[1] as number), 0);
  assert.equal(total, 100, 'the path covers the whole root duration');
});

test('overlapping children: only the one finishing last before the cursor counts', () => {
  const spans = [span('root', '', 0, 100), span('a', 'root', 10, 80), span('b', 'root', 20, 30)];
  const t = buildTree(spans);
  const m = segmentsBySpan(criticalPath(spans, t));
  assert.ok(m.has(1));
  assert.ok(!m.has(2), 'b overlaps a entirely and is not on the path');
});

test('children outliving their parent are clipped', () => {
  const spans = [span('root', '', 0, 50), span('late', 'root', 40, 100)];
  const segs = criticalPath(spans, buildTree(spans));
  for (const s of segs) assert.ok(s.endUs <= 50);
  assert.deepEqual(segs.map((s) => [s.span, s.startUs, s.endUs]), [[1, 40, 50], [0, 0, 40]]);
});

test('50,000 spans and a 20,000-deep chain in well under a second', () => {
  const wide = [span('r', '', 0, 1e6), ...Array.from({ length: 50_000 }, (_, i) => span(`c${i}`, 'r', i * 10, 15))];
  const t0 = performance.now();
  const segs = criticalPath(wide, buildTree(wide));
  assert.ok(segs.length > 1);
  const chain = Array.from({ length: 20_000 }, (_, i) => span(`s${i}`, i === 0 ? '' : `s${i - 1}`, i, 40_000 - 2 * i));
  const cs = criticalPath(chain, buildTree(chain));
  assert.ok(cs.length >= 20_000);
  assert.ok(performance.now() - t0 < 1000);
});
