import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ancestors, buildTree, childrenOf } from './tree.js';
import { collapseToDepth, revealSpan, rowIndexOf, visibleRows } from './rows.js';
import { span } from './testing.js';

describe('buildTree', () => {
  const spans = [
    span('c', 'a', 30, 10),
    span('a', '', 0, 100),
    span('b', 'a', 10, 10),
    span('d', 'b', 12, 5),
    span('x', 'missing', 50, 5),
  ];
  const t = buildTree(spans);

  test('orders children by start time and lists spans in pre-order', () => {
    const names = Array.from(t.order, (i) => spans[i]!.spanId);
    assert.deepEqual(names, ['a', 'b', 'd', 'c', 'x']);
    assert.deepEqual(Array.from(childrenOf(t, 1), (i) => spans[i]!.spanId), ['b', 'c']);
  });

  test('depths, subtree sizes and ancestors', () => {
    assert.equal(t.depth[3], 2);
    assert.equal(t.subtreeSize[1], 4);
    assert.equal(t.maxDepth, 2);
    assert.deepEqual(ancestors(t, 3), [2, 1]);
  });

  test('a span whose parent never arrived is a flagged root', () => {
    assert.equal(t.orphan[4], 1);
    assert.equal(t.parent[4], -1);
    assert.equal(t.orphanCount, 1);
    assert.deepEqual(t.roots.map((i) => spans[i]!.spanId), ['a', 'x']);
  });

  test('cycles are broken instead of losing spans', () => {
    const cyc = buildTree([span('p', 'q', 0, 10), span('q', 'p', 1, 5)]);
    assert.equal(cyc.order.length, 2);
    assert.ok(cyc.orphanCount >= 1);
  });

  test('deep chains do not overflow the stack', () => {
    const chain = Array.from({ length: 100_000 }, (_, i) => span(`s${i}`, i === 0 ? '' : `s${i - 1}`, i, 100_000 - i));
    const ct = buildTree(chain);
    assert.equal(ct.maxDepth, 99_999);
    assert.equal(ct.subtreeSize[0], 100_000);
  });
});

describe('visible rows', () => {
  const spans = [span('a', '', 0, 100), span('b', 'a', 10, 10), span('d', 'b', 12, 5), span('c', 'a', 30, 10)];
  const t = buildTree(spans);
  const ids = (rows: Int32Array) => Array.from(rows, (i) => spans[i]!.spanId);

  test('collapsing a span hides its descendants only', () => {
    assert.deepEqual(ids(visibleRows(t, new Set())), ['a', 'b', 'd', 'c']);
    assert.deepEqual(ids(visibleRows(t, new Set([1]))), ['a', 'b', 'c']);
    assert.deepEqual(ids(visibleRows(t, new Set([0]))), ['a']);
  });

  test('collapse to a level, reveal a span, find its row', () => {
    const c = collapseToDepth(t, 1);
    assert.deepEqual(ids(visibleRows(t, c)), ['a', 'b', 'c']);
    const r = revealSpan(t, new Set([0, 1]), 2);
    const rows = visibleRows(t, r);
    assert.deepEqual(ids(rows), ['a', 'b', 'd', 'c']);
    assert.equal(rowIndexOf(t, rows, 3), 3);
    assert.equal(rowIndexOf(t, visibleRows(t, new Set([0])), 3), -1);
  });
});
