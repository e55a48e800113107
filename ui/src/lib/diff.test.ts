import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffCounts, diffState, diffTraces, durationDelta, flattenDiff } from './diff.js';
import { span, trace } from './testing.js';

test('merged tree marks only-in-A, only-in-B and both with the duration difference', () => {
  const a = trace([
    span('r', '', 0, 100, { service: 'front', name: 'GET /' }),
    span('x', 'r', 10, 20, { service: 'db', name: 'query' }),
    span('y', 'r', 40, 20, { service: 'db', name: 'query' }),
    span('z', 'r', 70, 5, { service: 'cache', name: 'get' }),
  ]);
  const b = trace([
    span('R', '', 1000, 150, { service: 'front', name: 'GET /' }),
    span('X', 'R', 1010, 50, { service: 'db', name: 'query' }),
    span('W', 'R', 1100, 5, { service: 'auth', name: 'check' }),
  ], 't2');
  const d = diffTraces(a, b);
  assert.equal(d.length, 1);
  const root = d[0]!;
  assert.equal(diffState(root), 'both');
  assert.equal(durationDelta(root), 50);
  const kids = new Map(root.children.map((c) => [c.operation, c]));
  assert.equal(diffState(kids.get('query')!), 'both');
  assert.equal(kids.get('query')!.a!.count, 2);
  assert.equal(kids.get('query')!.b!.count, 1);
  assert.equal(durationDelta(kids.get('query')!), 30);
  assert.equal(diffState(kids.get('get')!), 'a-only');
  assert.equal(diffState(kids.get('check')!), 'b-only');
  assert.deepEqual(diffCounts(d), { 'a-only': 1, 'b-only': 1, both: 2 });
  const flat = flattenDiff(d);
  assert.equal(flat.length, 4);
  assert.equal(flattenDiff(d, new Set([flat[0]!.path])).length, 1);
});
