import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutGraph } from './graph-layout.js';

test('callers are laid out left of callees, nodes do not overlap', () => {
  const l = layoutGraph([], [
    { from: 'frontend', to: 'customer', weight: 10 },
    { from: 'frontend', to: 'driver', weight: 10 },
    { from: 'frontend', to: 'route', weight: 100 },
    { from: 'customer', to: 'mysql', weight: 10 },
    { from: 'driver', to: 'redis', weight: 140 },
  ]);
  const n = new Map(l.nodes.map((x) => [x.id, x]));
  assert.equal(l.nodes.length, 6);
  assert.equal(n.get('frontend')!.layer, 0);
  assert.equal(n.get('customer')!.layer, 1);
  assert.equal(n.get('mysql')!.layer, 2);
  for (const e of l.edges) assert.ok(n.get(e.from)!.x < n.get(e.to)!.x, `${e.from} left of ${e.to}`);
  for (const a of l.nodes)
    for (const b of l.nodes) {
      if (a === b) continue;
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      assert.ok(!overlap, `${a.id} overlaps ${b.id}`);
    }
  assert.ok(l.width > 0 && l.height > 0);
});

test('cycles and self-calls still lay out', () => {
  const l = layoutGraph(['lonely'], [
    { from: 'a', to: 'b', weight: 1 },
    { from: 'b', to: 'c', weight: 1 },
    { from: 'c', to: 'a', weight: 1 },
    { from: 'b', to: 'b', weight: 3 },
  ]);
  assert.equal(l.nodes.length, 4);
  assert.equal(l.edges.filter((e) => e.back).length, 2);
  for (const e of l.edges) for (const v of [e.x1, e.y1, e.x2, e.y2, e.cx, e.cy]) assert.ok(Number.isFinite(v));
});

test('empty graph', () => {
  const l = layoutGraph([], []);
  assert.equal(l.nodes.length, 0);
});
