import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogfmt, toLogfmt } from './logfmt.js';
import { describeSearch, isGoDuration, lookbackMs, searchFromQuery, searchToApiQuery, searchToQuery, validateSearch, defaultSearch } from './search-params.js';
import { formatDuration, ticks } from './format.js';
import { SpanFinder } from './find.js';
import { summarize } from './summary.js';
import { flameRects } from './flame.js';
import { buildTree } from './tree.js';
import { span, trace } from './testing.js';

describe('logfmt tags', () => {
  test('parses pairs and quoted values', () => {
    const r = parseLogfmt('http.status_code=500 error=true db.statement="select * from t"');
    assert.deepEqual(r, { ok: true, tags: { 'http.status_code': '500', error: 'true', 'db.statement': 'select * from t' } });
    assert.deepEqual(parseLogfmt('a=1 b'), { ok: false, error: '"b" has no value: write b=value' });
    assert.equal(parseLogfmt('a="x').ok, false);
    assert.equal(toLogfmt({ a: '1', b: 'x y' }), 'a=1 b="x y"');
  });
});

describe('search URL state', () => {
  test('URL in Jaeger UI form round-trips; tags in the URL are JSON', () => {
    const q = new URLSearchParams('service=frontend&operation=GET%20%2F&tags=%7B%22error%22%3A%22true%22%7D&lookback=2h&minDuration=10ms&limit=50');
    const s = searchFromQuery(q);
    assert.equal(s.tags, 'error=true');
    assert.equal(s.lookback, '2h');
    const back = searchToQuery(s);
    assert.equal(back.get('tags'), '{"error":"true"}');
    assert.equal(back.get('minDuration'), '10ms');
  });
  test('API query: start/end from the lookback, tags as JSON', () => {
    const s = { ...defaultSearch, service: 'a', tags: 'x=1', lookback: '1h' };
    const q = searchToApiQuery(s, 1_000_000);
    assert.equal(q.get('end'), '1000000000');
    assert.equal(q.get('start'), String(1_000_000_000 - 3_600_000_000));
    assert.equal(q.get('tags'), '{"x":"1"}');
    assert.equal(q.get('service'), 'a');
  });
  test('validation and descriptions', () => {
    assert.equal(validateSearch({ ...defaultSearch, minDuration: '10 ms' }).ok, false);
    assert.equal(validateSearch({ ...defaultSearch, minDuration: '1.5ms' }).ok, true);
    assert.equal(validateSearch({ ...defaultSearch, lookback: 'custom' }).ok, false);
    assert.ok(isGoDuration('1h30m'));
    assert.equal(lookbackMs('2d'), 2 * 86_400_000);
    assert.match(describeSearch({ ...defaultSearch, service: 'x' }), /service "x", last hour/);
  });
});

describe('formatting', () => {
  test('durations', () => {
    assert.equal(formatDuration(850), '850μs');
    assert.equal(formatDuration(1234), '1.23ms');
    assert.equal(formatDuration(4_500_000), '4.5s');
    assert.equal(formatDuration(125_000_000), '2m 5s');
    assert.equal(formatDuration(-1500), '-1.5ms');
    assert.deepEqual(ticks(100, 4), [0, 25, 50, 75, 100]);
  });
});

describe('find, summary and flame', () => {
  const spans = [
    span('r', '', 0, 100, { service: 'front', name: 'GET /' }),
    span('a', 'r', 10, 20, { service: 'db', name: 'query', attributes: [{ key: 'db.system', value: { stringValue: 'mysql' } }] }),
    span('b', 'r', 40, 20, { service: 'db', name: 'query', error: true }),
    span('o', 'gone', 50, 5, { service: 'cache', name: 'get' }),
  ];
  test('find: terms are ANDed; key=value matches attributes', () => {
    const f = new SpanFinder(spans);
    assert.deepEqual(f.find('query'), [1, 2]);
    assert.deepEqual(f.find('db.system=mysql'), [1]);
    assert.deepEqual(f.find('DB query error=true'), [2]);
    assert.deepEqual(f.find('  '), []);
  });
  test('summary counts services, errors, orphans and depth', () => {
    const s = summarize(trace(spans));
    assert.equal(s.rootService, 'front');
    assert.equal(s.errorCount, 1);
    assert.equal(s.orphanCount, 1);
    assert.equal(s.depth, 2);
    assert.deepEqual(s.services.map((x) => [x.service, x.count]), [['db', 2], ['cache', 1], ['front', 1]]);
  });
  test('flame rectangles by depth and time; tiny ones dropped', () => {
    const r = flameRects(spans, buildTree(spans), 0, 100, 0.1);
    assert.deepEqual(r.map((x) => [spans[x.span]!.spanId, x.depth, x.x, x.w]), [['r', 0, 0, 1], ['a', 1, 0.1, 0.2], ['b', 1, 0.4, 0.2]]);
  });
});
