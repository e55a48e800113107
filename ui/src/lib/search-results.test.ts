import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceSummaries, resultFromSummary, type SearchResult } from './search-results.js';
import { summarize } from './summary.js';
import { span, trace } from './testing.js';

describe('search results', () => {
  test('parses /api/skua/trace-summaries into result rows', () => {
    const doc = {
      data: [
        {
          traceID: 'ABCDEF0123456789ABCDEF0123456789',
          rootServiceName: 'frontend',
          rootOperationName: 'GET /dispatch',
          rootSpanID: '0102030405060708',
          startTime: 1_700_000_000_000_000,
          duration: 1234,
          spanCount: 7,
          errorCount: 1,
          services: [
            { name: 'redis', spanCount: 2, errorCount: 1 },
            { name: 'frontend', spanCount: 5, errorCount: 0 },
          ],
          incomplete: true,
        },
      ],
      total: 1,
      limit: 20,
      offset: 0,
      errors: null,
    };
    const want: SearchResult = {
      traceId: 'abcdef0123456789abcdef0123456789',
      rootService: 'frontend',
      rootName: 'GET /dispatch',
      startUs: 1_700_000_000_000_000,
      durationUs: 1234,
      spanCount: 7,
      errorCount: 1,
      incomplete: true,
      services: [
        { service: 'frontend', count: 5, errors: 0 },
        { service: 'redis', count: 2, errors: 1 },
      ],
    };
    assert.deepEqual(parseTraceSummaries(doc), [want]);
    assert.deepEqual(parseTraceSummaries({ data: null, total: 0 }), []);
    // Missing optional figures default rather than break the page.
    assert.deepEqual(parseTraceSummaries({ data: [{ traceID: 'ab' }] })[0], {
      traceId: 'ab', rootService: '', rootName: '', startUs: 0, durationUs: 0, spanCount: 0, errorCount: 0, incomplete: false, services: [],
    });
  });

  test('rejects what is not a summaries response', () => {
    for (const bad of [null, [], {}, { data: {} }, { data: [{}] }, { data: [{ traceID: 7 }] }, { data: [{ traceID: '' }] }]) {
      assert.throws(() => parseTraceSummaries(bad), /trace summar/, JSON.stringify(bad));
    }
  });

  test('the same row from a whole trace (query APIs without summaries)', () => {
    const t = trace([
      span('r', '', 0, 100, { service: 'fe', name: 'root' }),
      span('a', 'r', 10, 20, { service: 'db', error: true }),
      span('b', 'lost', 50, 60, { service: 'db' }),
    ]);
    assert.deepEqual(resultFromSummary(summarize(t)), {
      traceId: 't1',
      rootService: 'fe',
      rootName: 'root',
      startUs: 0,
      durationUs: 110,
      spanCount: 3,
      errorCount: 1,
      incomplete: true,
      services: [
        { service: 'db', count: 2, errors: 1 },
        { service: 'fe', count: 1, errors: 0 },
      ],
    });
  });
});
