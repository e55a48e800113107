import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree } from './tree.js';
import { operationStats, selfTimes, serviceStats } from './stats.js';
import { span } from './testing.js';

test('self time subtracts the union of children, clipped to the span', () => {
  const spans = [span('r', '', 0, 100), span('a', 'r', 10, 30), span('b', 'r', 20, 30), span('c', 'r', 90, 50)];
  const self = selfTimes(spans, buildTree(spans));
  assert.equal(self[0], 100 - 40 - 10); // [10,50) and [90,100)
  assert.equal(self[1], 30);
});

test('per operation and per service statistics', () => {
  const spans = [
    span('r', '', 0, 100, { service: 'front', name: 'GET /' }),
    span('a', 'r', 0, 20, { service: 'db', name: 'query' }),
    span('b', 'r', 30, 40, { service: 'db', name: 'query', error: true }),
    span('c', 'r', 80, 10, { service: 'db', name: 'connect' }),
  ];
  const ops = operationStats(spans, buildTree(spans));
  const q = ops.find((o) => o.operation === 'query')!;
  assert.equal(q.count, 2);
  assert.equal(q.errors, 1);
  assert.equal(q.totalUs, 60);
  assert.equal(q.avgUs, 30);
  assert.equal(q.minUs, 20);
  assert.equal(q.maxUs, 40);
  const svc = serviceStats(ops);
  const db = svc.find((s) => s.service === 'db')!;
  assert.equal(db.count, 3);
  assert.equal(db.totalUs, 70);
  assert.equal(svc.find((s) => s.service === 'front')!.selfTotalUs, 30);
});
