/**
 * End-to-end: Debian's Chromium (headless, playwright-core) against a real running Skua (memory
 * storage) loaded with the demo's traces (its four services under zero-code instrumentation),
 * generated HotROD-like traces and a generated 50,000-span trace.
 * search → open → expand a span → find → views → big trace → compare → service map → upload →
 * theme → error states. Writes a screenshot of each page to test-output/screenshots/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { bigTrace, dispatchTrace, toRequest } from './fixtures.js';
import { ensureScreenshotDir, ensureUiBuilt, launchBrowser, sendOtlp, startSkua, waitForTrace, type Skua } from './harness.js';
import { driveLoad, startDemo } from '../../examples/demo/demo.js';

const BIG = 50_000;

describe('web UI against a running Skua', { timeout: 300_000 }, () => {
  let skua: Skua;
  let browser: Browser;
  let page: Page;
  let shots: string;
  let tmp: string;
  const now = Date.now();
  const a = dispatchTrace({ seed: 21, startMs: now - 20_000, drivers: 8, extra: { service: 'cache', name: 'GET session' }, rootAttributes: { fixture: 'compare' } });
  const b = dispatchTrace({ seed: 22, startMs: now - 10_000, drivers: 10, error: true, extra: { service: 'auth', name: 'POST /authorize' }, rootAttributes: { fixture: 'compare' } });
  const orphan = dispatchTrace({ seed: 23, startMs: now - 5_000, dropRoot: true });
  const big = bigTrace(BIG, { startMs: now - 60_000 });
  const pageErrors: string[] = [];

  /** Rows of the timeline (only those on screen are in the DOM). */
  const rows = async () => Number(await page.getAttribute('[data-testid=timeline]', 'aria-rowcount'));
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });
  const go = async (path: string) => {
    await page.goto(`${skua.queryUrl}${path}`);
  };

  before(async () => {
    ensureUiBuilt();
    shots = ensureScreenshotDir();
    tmp = mkdtempSync(join(tmpdir(), 'skua-ui-test-'));
    skua = await startSkua();
    for (const t of [a, b, orphan]) await sendOtlp(skua.otlpHttpUrl, toRequest(t.spans));
    for (const r of big.requests) await sendOtlp(skua.otlpHttpUrl, r);
    // The demo's services, under zero-code instrumentation, send their own traces.
    const demo = await startDemo({
      otlpHttpEndpoint: skua.otlpHttpUrl,
      ports: { frontend: 0, customer: 0, driver: 0, route: 0 },
      env: { OTEL_BSP_SCHEDULE_DELAY: '100' },
      startTimeoutMs: 90_000,
    });
    try {
      await driveLoad(demo.frontendUrl, 4, { concurrency: 2 });
    } finally {
      await demo.stop();
    }
    await waitForTrace(skua.queryUrl, a.traceId, a.spans.length);
    await waitForTrace(skua.queryUrl, b.traceId, b.spans.length);
    await waitForTrace(skua.queryUrl, big.traceId, BIG, 60_000);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await skua?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });

  test('search: services listed, results as scatter plot and list', async () => {
    await go('/search');
    await page.waitForSelector('[data-testid=search-intro]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=service-select]') as HTMLSelectElement).options.length > 4);
    const services = await page.$$eval('[data-testid=service-select] option', (os) => os.map((o) => o.textContent));
    for (const s of ['All services', 'frontend', 'customer', 'driver', 'route', 'gateway']) assert.ok(services.includes(s), `${s} in ${services.join(',')}`);
    await page.selectOption('[data-testid=service-select]', 'frontend');
    await page.waitForFunction(() => (document.querySelector('[data-testid=operation-select]') as HTMLSelectElement).options.length > 1);
    await page.click('[data-testid=find-traces]');
    await page.waitForSelector('[data-testid=search-result]');
    const n = await page.locator('[data-testid=search-result]').count();
    assert.ok(n >= 4, `demo and generated traces found (${n})`);
    assert.match(page.url(), /service=frontend/);
    assert.match(page.url(), /lookback=1h/);
    await page.waitForSelector('[data-testid=scatter-plot] circle');
    await shot('01-search');
  });

  test('search: all services, including the 50,000-span trace, sortable', async () => {
    await go('/search');
    const responses: Response[] = [];
    const onResponse = (r: Response) => {
      if (new URL(r.url()).pathname.includes('/api/')) responses.push(r);
    };
    page.on('response', onResponse);
    try {
      await page.click('[data-testid=find-traces]');
      await page.waitForSelector('[data-testid=search-result]', { timeout: 60_000 });
    } finally {
      page.off('response', onResponse);
    }
    assert.match(page.url(), /lookback=1h/);
    await page.selectOption('[data-testid=sort-select]', 'most-spans');
    const first = (await page.locator('[data-testid=search-result]').first().textContent()) ?? '';
    assert.match(first, /gateway: POST \/batch-import/);
    assert.match(first, /50000 spans/);
    assert.match(first, /orders \(\d+\)/, 'spans per service');
    // The list and the scatter plot come from trace summaries, not whole traces.
    const paths = responses.map((r) => new URL(r.url()).pathname);
    assert.deepEqual(paths.filter((p) => p.endsWith('/api/traces')), [], 'no whole traces fetched');
    const summary = responses.find((r) => new URL(r.url()).pathname.endsWith('/api/skua/trace-summaries'));
    assert.ok(summary, `summaries fetched (${paths.join(', ')})`);
    const summaryBytes = (await summary.body()).byteLength;
    // What the page fetched before, for the same search: Jaeger's /api/traces (whole traces).
    const whole = await fetch(`${skua.queryUrl}/api/traces${new URL(summary.url()).search}`);
    const wholeBytes = (await whole.arrayBuffer()).byteLength;
    assert.ok(wholeBytes > 20_000_000, `/api/traces for this search: ${wholeBytes} bytes`);
    assert.ok(summaryBytes < 50_000, `summaries for this search: ${summaryBytes} bytes`);
  });

  test('search by trace ids, as Jaeger UI links do', async () => {
    const requested: string[] = [];
    const onRequest = (r: Request) => void requested.push(r.url());
    page.on('request', onRequest);
    await go(`/search?traceID=${a.traceId}&traceID=${orphan.traceId}`);
    await page.waitForSelector('[data-testid=search-result]');
    page.off('request', onRequest);
    assert.equal(await page.locator('[data-testid=search-result]').count(), 2);
    assert.match((await page.textContent('[data-testid=results]')) ?? '', /incomplete/);
    assert.ok(requested.some((u) => u.includes(`/api/skua/trace-summaries?traceID=${a.traceId}&traceID=${orphan.traceId}`)), requested.join(', '));
  });

  test('search: a query API without trace summaries (an older Skua) still lists results from whole traces', async () => {
    await page.route('**/api/skua/trace-summaries?**', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"data":null,"errors":[{"code":404,"msg":"no API route"}]}' }));
    const requested: string[] = [];
    const onRequest = (r: Request) => void requested.push(new URL(r.url()).pathname);
    page.on('request', onRequest);
    try {
      await go('/search?service=frontend&tags=%7B%22fixture%22%3A%22compare%22%7D&lookback=1h&limit=20');
      await page.waitForSelector('[data-testid=search-result]');
      assert.equal(await page.locator('[data-testid=search-result]').count(), 2);
      assert.match((await page.textContent('[data-testid=results]')) ?? '', /1 error/);
      assert.ok(requested.some((p) => p.endsWith('/api/traces')), requested.join(', '));
    } finally {
      page.off('request', onRequest);
      await page.unroute('**/api/skua/trace-summaries?**');
    }
  });

  test('search: empty state names the search', async () => {
    await go('/search?service=frontend&tags=%7B%22no.such.tag%22%3A%22x%22%7D&lookback=1h&limit=20');
    await page.waitForSelector('[data-testid=no-results]');
    const text = await page.textContent('[data-testid=no-results]');
    assert.match(text ?? '', /No traces found for service "frontend", tags no\.such\.tag=x, last hour/);
    await shot('02-search-empty');
  });

  test('open a trace from the results, expand and collapse, span details', async () => {
    await go('/search?service=frontend&tags=%7B%22fixture%22%3A%22compare%22%7D&lookback=1h&limit=20');
    await page.waitForSelector('[data-testid=search-result]');
    assert.equal(await page.locator('[data-testid=search-result]').count(), 2);
    await page.click(`a[href$="/trace/${b.traceId}"]`);
    await page.waitForSelector('.tl-row');
    assert.match(page.url(), new RegExp(`/trace/${b.traceId}$`));
    assert.equal(await page.textContent('[data-testid=trace-span-count]'), String(b.spans.length));
    const rowCount = rows;
    assert.equal(await rowCount(), b.spans.length);
    await shot('03-trace');
    // Collapse the driver subtree, then expand it again.
    const driverRow = page.locator('.tl-row', { hasText: 'GET /drivers' });
    await driverRow.locator('.tl-toggle').click();
    assert.equal(await rowCount(), b.spans.length - 11);
    await driverRow.locator('.tl-toggle').click();
    assert.equal(await rowCount(), b.spans.length);
    // Span details: attributes, events at relative times, status, kind, ids.
    await page.locator('.tl-row', { hasText: 'GetDriver' }).filter({ has: page.locator('.err-mark') }).click();
    await page.waitForSelector('[data-testid=span-details]');
    const details = (await page.textContent('[data-testid=span-details]')) ?? '';
    assert.match(details, /Error: redis timeout/);
    assert.match(details, /driver\.id/);
    assert.match(details, /exception/);
    assert.match(details, /Kindclient/);
    assert.match(details, /span id[0-9a-f]{16}/);
    await page.click('[data-testid=span-resource] .kv-title');
    assert.match((await page.textContent('[data-testid=span-resource]')) ?? '', /service\.name\s*redis/);
    await shot('04-span-details');
  });

  test('keyboard navigation in the timeline', async () => {
    await page.click('[data-testid=view-timeline]');
    await page.locator('.tl-row').first().click();
    await page.focus('[data-testid=timeline]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.match((await page.locator('.tl-row.selected').textContent()) ?? '', /auth\s*POST \/authorize/);
    await page.keyboard.press('ArrowLeft'); // a leaf: go to its parent
    assert.match((await page.locator('.tl-row.selected').textContent()) ?? '', /frontend\s*HTTP POST \/authorize/);
    await page.keyboard.press('ArrowLeft'); // collapse it
    assert.equal(await rows(), b.spans.length - 1);
    await page.keyboard.press('ArrowRight');
    assert.equal(await rows(), b.spans.length);
    await page.keyboard.press('End');
    assert.match((await page.locator('.tl-row.selected').textContent()) ?? '', /route/);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=span-details]', { state: 'detached' });
  });

  test('find within the trace with next and previous', async () => {
    await page.fill('[data-testid=find-input]', 'GetDriver');
    await page.waitForFunction(() => document.querySelector('[data-testid=find-count]')?.textContent === '0 of 10');
    assert.match(page.url(), /uiFind=GetDriver/);
    assert.equal(await page.locator('.tl-row.match').count(), 10);
    await page.click('[data-testid=find-next]');
    assert.equal(await page.textContent('[data-testid=find-count]'), '1 of 10');
    await page.click('[data-testid=find-prev]');
    assert.equal(await page.textContent('[data-testid=find-count]'), '10 of 10');
    await page.fill('[data-testid=find-input]', 'driver.id=T7103');
    await page.waitForFunction(() => document.querySelector('[data-testid=find-count]')?.textContent === '0 of 1');
    await page.press('[data-testid=find-input]', 'Enter');
    assert.equal(await page.locator('.tl-row.focus-match').count(), 1);
    await shot('05-find');
    await page.fill('[data-testid=find-input]', '');
  });

  test('alternative views: span table, statistics, flame graph, OTLP JSON', async () => {
    await page.click('[data-testid=view-table]');
    await page.waitForSelector('[data-testid=span-table] .st-row:not(.st-head)');
    assert.match(page.url(), /view=table/);
    await shot('06-view-table');
    await page.click('[data-testid=view-stats]');
    await page.waitForSelector('[data-testid=stats-view] tbody tr');
    const stats = (await page.textContent('[data-testid=stats-view]')) ?? '';
    assert.match(stats, /GetDriver/);
    await shot('07-view-stats');
    await page.click('[data-testid=view-flame]');
    await page.waitForSelector('[data-testid=flame-graph] canvas');
    await shot('08-view-flame');
    await page.click('[data-testid=view-json]');
    await page.waitForSelector('[data-testid=raw-json] pre');
    const raw = (await page.textContent('[data-testid=raw-json] pre')) ?? '';
    const doc = JSON.parse(raw) as { result: { resourceSpans: unknown[] } };
    assert.ok(doc.result.resourceSpans.length >= 5);
    await shot('09-view-json');
    await page.goBack();
    await page.waitForSelector('[data-testid=flame-graph]');
  });

  test('a span whose parent never arrived is flagged', async () => {
    await go(`/trace/${orphan.traceId}`);
    await page.waitForSelector('.tl-row');
    assert.match((await page.textContent('[data-testid=incomplete-banner]')) ?? '', /Incomplete trace/);
    await page.locator('.tl-row').filter({ has: page.locator('.orphan-mark') }).first().click();
    assert.match((await page.textContent('[data-testid=orphan-warning]')) ?? '', /incomplete trace: parent span not received/);
    // Skua's own adjuster warning for the span, carried in API v3's @jaeger@warnings attribute.
    assert.match((await page.textContent('[data-testid=span-warnings]')) ?? '', /not in the trace/);
    assert.doesNotMatch((await page.textContent('[data-testid=span-attributes]')) ?? '', /@jaeger@warnings/);
    await shot('10-incomplete-trace');
  });

  test('50,000-span trace: first rows fast, scrolls to the end, minimap zoom', async () => {
    await go(`/trace/${big.traceId}`);
    await page.waitForFunction(() => document.body.dataset.firstRowsMs !== undefined, undefined, { timeout: 30_000 });
    const firstRows = await page.evaluate(() => performance.getEntriesByName('skua:first-rows')[0]!.startTime);
    // The 1.5 s goal is measured by `npm run bench -- ui`; here only a loose bound against regressions.
    assert.ok(firstRows < 8000, `first rows after ${firstRows} ms`);
    assert.equal(await page.textContent('[data-testid=trace-span-count]'), '50,000');
    const inDom = await page.locator('.tl-row').count();
    assert.ok(inDom < 200, `virtualised: ${inDom} rows in the DOM`);
    await shot('11-big-trace');
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=timeline]')!;
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForFunction(() => document.querySelectorAll('.tl-row').length > 0);
    const lastRowTop = await page.evaluate(() => {
      const el = document.querySelector('[data-testid=timeline]') as HTMLElement;
      return [el.scrollTop, el.scrollHeight, document.querySelectorAll('.tl-row').length] as const;
    });
    assert.ok(lastRowTop[0] > 1_000_000, 'scrolled far down');
    // Drag across the minimap to zoom.
    const box = (await page.locator('[data-testid=minimap]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + 30, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('[data-testid=reset-zoom]');
    await page.evaluate(() => ((document.querySelector('[data-testid=timeline]') as HTMLElement).scrollTop = 0));
    await shot('12-big-trace-zoomed');
    await page.click('[data-testid=reset-zoom]');
  });

  test('compare two traces picked from the search results', async () => {
    await go('/search?service=frontend&tags=%7B%22fixture%22%3A%22compare%22%7D&lookback=1h&limit=20');
    await page.waitForSelector('[data-testid=search-result]');
    // Oldest (a) first: sort shortest/longest is not stable for this, so tick by trace id.
    await page.locator('[data-testid=search-result]', { has: page.locator(`a[href$="/trace/${a.traceId}"]`) }).locator('[data-testid=compare-check]').check();
    await page.locator('[data-testid=search-result]', { has: page.locator(`a[href$="/trace/${b.traceId}"]`) }).locator('[data-testid=compare-check]').check();
    await page.click('[data-testid=compare-button]');
    await page.waitForSelector('[data-testid=compare-row]');
    assert.match(page.url(), new RegExp(`/trace/${a.traceId}\\.\\.\\.${b.traceId}$`));
    const states = await page.$$eval('[data-testid=compare-row]', (rows) => rows.map((r) => `${r.getAttribute('data-state')}:${r.textContent}`));
    assert.ok(states.some((s) => s.startsWith('a-only:') && s.includes('cache')), 'cache call only in A');
    assert.ok(states.some((s) => s.startsWith('b-only:') && s.includes('auth')), 'auth call only in B');
    assert.ok(states.some((s) => s.startsWith('both:') && s.includes('GetDriver') && s.includes('8×') && s.includes('10×')));
    await shot('13-compare');
  });

  test('service map from /api/dependencies with a selectable window', async () => {
    await go('/dependencies');
    await page.waitForSelector('[data-testid=graph-node]');
    const nodes = await page.$$eval('[data-testid=graph-node] text', (ts) => ts.map((t) => t.textContent));
    for (const s of ['frontend', 'customer', 'driver', 'route', 'redis', 'mysql']) assert.ok(nodes.includes(s), `${s} in ${nodes.join(',')}`);
    await shot('14-service-map');
    await page.selectOption('[data-testid=deps-window]', '1h');
    assert.match(page.url(), /lookback=1h/);
    await page.waitForSelector('[data-testid=graph-node]');
  });

  test('upload: OTLP JSON Lines and Jaeger JSON files are viewed without storing them', async () => {
    const c = dispatchTrace({ seed: 31, startMs: now - 1000, extra: { service: 'uploaded-only', name: 'GET /x' } });
    const d = dispatchTrace({ seed: 32, startMs: now - 500 });
    const jsonl = join(tmp, 'traces.jsonl');
    writeFileSync(jsonl, [toRequest(c.spans.slice(0, 10)), toRequest(c.spans.slice(10)), toRequest(d.spans)].map((x) => JSON.stringify(x)).join('\n'));
    const jaeger = join(tmp, 'jaeger.json');
    writeFileSync(jaeger, await (await fetch(`${skua.queryUrl}/api/traces/${a.traceId}`)).text());
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"hello": "world"}');
    await page.click('[data-testid=nav-upload]');
    await page.waitForSelector('[data-testid=upload-empty]');
    await page.setInputFiles('[data-testid=upload-input]', [jsonl, jaeger, bad]);
    await page.waitForSelector('[data-testid=upload-file] >> nth=1');
    assert.match((await page.textContent('[data-testid=upload-error]')) ?? '', /bad\.json: unrecognised trace file/);
    const text = (await page.textContent('.upload-page')) ?? '';
    assert.match(text, /traces\.jsonl\s*OTLP JSON Lines · 2 traces/);
    assert.match(text, /jaeger\.json\s*Jaeger JSON · 1 trace/);
    await shot('15-upload');
    await page.click(`[data-testid=upload-file] a[href$="/trace/${c.traceId}"]`);
    await page.waitForSelector('.tl-row');
    assert.equal(await rows(), c.spans.length);
    assert.match((await page.textContent('[data-testid=trace-header]')) ?? '', /from file/);
    await shot('16-uploaded-trace');
    const stored = await fetch(`${skua.queryUrl}/api/traces/${c.traceId}`);
    assert.equal(stored.status, 404, 'the uploaded trace was not stored');
  });

  test('dark theme, kept across reloads', async () => {
    await go(`/trace/${b.traceId}`);
    await page.waitForSelector('.tl-row');
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.click('[data-testid=theme-toggle]');
    const afterToggle = await page.evaluate(() => document.documentElement.dataset.theme);
    assert.notEqual(afterToggle, before);
    if (afterToggle !== 'dark') await page.click('[data-testid=theme-toggle]');
    await page.reload();
    await page.waitForSelector('.tl-row');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.locator('.tl-row', { hasText: 'SQL SELECT' }).click();
    await shot('17-dark-theme');
    await page.click('[data-testid=theme-toggle]');
  });

  test('unknown trace id, then Skua not reachable', async () => {
    await go('/trace/0123456789abcdef0123456789abcdef');
    await page.waitForSelector('[data-testid=error-state]');
    assert.match((await page.textContent('[data-testid=error-state]')) ?? '', /was not found/);
    await go('/search?service=frontend&lookback=1h');
    await page.waitForSelector('[data-testid=search-result]');
    await skua.stop();
    await page.click('[data-testid=find-traces]');
    await page.waitForSelector('[data-testid=error-unreachable]');
    assert.match((await page.textContent('[data-testid=error-unreachable]')) ?? '', /Skua is not reachable/);
    await shot('18-unreachable');
  });
});

describe('web UI under a base path', { timeout: 120_000 }, () => {
  let skua: Skua;
  let browser: Browser;
  const t = dispatchTrace({ seed: 41, startMs: Date.now() - 3000 });

  before(async () => {
    ensureUiBuilt();
    skua = await startSkua({ basePath: '/tracing/skua' });
    await sendOtlp(skua.otlpHttpUrl, toRequest(t.spans));
    await waitForTrace(skua.queryUrl, t.traceId, t.spans.length);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await skua?.stop();
  });

  test('deep links, assets and API calls resolve under jaeger_query base_path', async () => {
    assert.match(skua.queryUrl, /\/tracing\/skua$/);
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${skua.queryUrl}/trace/${t.traceId}`);
    await page.waitForSelector('.tl-row');
    await page.click('[data-testid=nav-search]');
    assert.equal(new URL(page.url()).pathname, '/tracing/skua/search');
    await page.waitForFunction(() => (document.querySelector('[data-testid=service-select]') as HTMLSelectElement).options.length > 1);
    await page.click('[data-testid=find-traces]');
    await page.waitForSelector('[data-testid=search-result]');
    await page.click('[data-testid=nav-dependencies]');
    await page.waitForSelector('[data-testid=graph-node]');
    assert.equal(new URL(page.url()).pathname, '/tracing/skua/dependencies');
    assert.deepEqual(failed, []);
  });
});
