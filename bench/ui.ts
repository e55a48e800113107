/**
 * Browser benchmark of the web UI (`npm run bench -- ui`): a real Skua (memory storage) holding a
 * generated 50,000-span trace, Debian's Chromium (headless) through playwright-core.
 *
 * Measures, over several cold page loads of /trace/{id} (fresh browser context each time):
 * - first rows painted: time from navigation start to the `skua:first-rows` mark, which the
 *   timeline sets in the first task after the frame that shows its first rows;
 * - its parts: API response received and parsed, converted to the UI model, tree derived;
 * then, on the loaded page: scrolling (frame times while scrolling through the whole timeline),
 * collapsing/expanding the root, find over 50,000 spans, and opening the same trace from a file.
 *
 * Options: --spans N (default 50000), --runs N (default 5).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bigTrace } from '../ui/e2e/fixtures.js';
import { ensureUiBuilt, launchBrowser, sendOtlp, startSkua, waitForTrace } from '../ui/e2e/harness.js';

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const f1 = (x: number): string => x.toFixed(1);

export async function run(args: string[]): Promise<void> {
  const n = opt(args, 'spans', 50_000);
  const runs = opt(args, 'runs', 5);
  ensureUiBuilt();
  const skua = await startSkua();
  const browser = await launchBrowser();
  const tmp = mkdtempSync(join(tmpdir(), 'skua-bench-ui-'));
  try {
    const big = bigTrace(n, { startMs: Date.now() - 120_000 });
    for (const r of big.requests) await sendOtlp(skua.otlpHttpUrl, r);
    await waitForTrace(skua.queryUrl, big.traceId, n, 120_000);
    const v3 = await fetch(`${skua.queryUrl}/api/v3/traces/${big.traceId}`);
    const v3Bytes = (await v3.arrayBuffer()).byteLength;
    console.log(`UI benchmark: trace of ${n.toLocaleString('en-US')} spans (API v3 response ${(v3Bytes / 1e6).toFixed(1)} MB), ${runs} cold loads, headless Chromium ${browser.version()}`);

    const rows: Array<Record<string, number>> = [];
    for (let i = 0; i < runs; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      // tsx (esbuild keepNames) wraps named functions in the evaluated code with __name().
      await ctx.addInitScript('window.__name = (f) => f');
      const page = await ctx.newPage();
      await page.goto(`${skua.queryUrl}/trace/${big.traceId}`);
      await page.waitForFunction(() => document.body.dataset.firstRowsMs !== undefined, undefined, { timeout: 60_000 });
      const m = await page.evaluate(() => {
        const mark = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
        const res = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v3/traces/')) as PerformanceResourceTiming | undefined;
        return {
          firstRows: mark('skua:first-rows'),
          requestStart: res ? res.startTime : NaN,
          responseEnd: res ? res.responseEnd : NaN,
          fetched: mark('skua:trace-fetched'),
          parsed: mark('skua:trace-parsed'),
          derived: mark('skua:trace-derived'),
        };
      });
      rows.push(m);
      console.log(
        `  load ${i + 1}: first rows ${f1(m.firstRows)} ms  (API request at ${f1(m.requestStart)}, response complete ${f1(m.responseEnd)}, JSON parsed ${f1(m.fetched)}, ` +
          `UI model ${f1(m.parsed)}, tree ${f1(m.derived)} ms)`,
      );
      if (i === runs - 1) await interactions(page, n);
      await ctx.close();
    }
    const fr = rows.map((r) => r.firstRows!);
    console.log(`first rows painted (ms from navigation start): median ${f1(pct(fr, 50))}, min ${f1(Math.min(...fr))}, max ${f1(Math.max(...fr))}  [goal: <= 1500]`);

    // The same trace opened from a file (no server work: parse + derive + paint).
    const file = join(tmp, 'big.json');
    writeFileSync(file, JSON.stringify({ resourceSpans: big.requests.flatMap((r) => (r as { resourceSpans: unknown[] }).resourceSpans) }));
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(`${skua.queryUrl}/upload`);
    await page.waitForSelector('[data-testid=upload-input]', { state: 'attached' });
    const t0 = Date.now();
    await page.setInputFiles('[data-testid=upload-input]', file);
    await page.waitForFunction(() => document.body.dataset.firstRowsMs !== undefined, undefined, { timeout: 60_000 });
    console.log(`open from file (OTLP JSON, ${n.toLocaleString('en-US')} spans): first rows ${Date.now() - t0} ms after choosing the file`);
    await ctx.close();
  } finally {
    await browser.close();
    await skua.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function interactions(page: import('playwright-core').Page, n: number): Promise<void> {
  // Scroll through the whole timeline, a large step each animation frame, recording frame times.
  const scroll = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=timeline]') as HTMLElement;
    const frames: number[] = [];
    const step = 900; // px per frame: ~35 rows, much faster than a person scrolls
    let last = performance.now();
    const t0 = last;
    await new Promise<void>((resolve) => {
      const tick = (t: number) => {
        frames.push(t - last);
        last = t;
        if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1 || frames.length > 3000) return resolve();
        el.scrollTop += step;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const rendered = el.querySelectorAll('.tl-row').length;
    return { frames: frames.slice(1), total: performance.now() - t0, rendered };
  });
  const fr = scroll.frames;
  const slow = fr.filter((x) => x > 33.4).length;
  console.log(
    `  scroll through all ${n.toLocaleString('en-US')} rows: ${fr.length} frames in ${f1(scroll.total)} ms; frame time p50 ${f1(pct(fr, 50))} ms, p95 ${f1(pct(fr, 95))} ms, ` +
      `p99 ${f1(pct(fr, 99))} ms, max ${f1(Math.max(...fr))} ms; frames over 33 ms: ${slow} (${f1((slow / fr.length) * 100)}%); rows in the DOM: ${scroll.rendered}`,
  );
  // Collapse and expand the root (50,000 rows → 1 → 50,000).
  const toggle = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=timeline]') as HTMLElement;
    el.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const btn = () => document.querySelector('.tl-row .tl-toggle') as HTMLButtonElement;
    const time = async () => {
      const t = performance.now();
      btn().click();
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now() - t;
    };
    return { collapse: await time(), expand: await time() };
  });
  console.log(`  collapse root: ${f1(toggle.collapse)} ms, expand root: ${f1(toggle.expand)} ms (until the next frame is painted)`);
  const t = Date.now();
  await page.fill('[data-testid=find-input]', 'payments');
  await page.waitForFunction(() => /of [1-9]/.test(document.querySelector('[data-testid=find-count]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  const count = await page.textContent('[data-testid=find-count]');
  console.log(`  find "payments" over ${n.toLocaleString('en-US')} spans: ${Date.now() - t} ms until highlighted (${count}, incl. 150 ms input debounce)`);
}
