/**
 * Search benchmark (`npm run bench -- ui-search`): what a search whose results include a
 * 50,000-span trace costs, over HTTP and in the browser. A real Skua (memory storage) holds the
 * big trace plus `--traces` HotROD-like traces of ~40–60 spans.
 *
 * - HTTP: bytes and time of Jaeger's `GET /api/traces?…` (whole traces, what Jaeger UI and Grafana
 *   call) and of Skua's `GET /api/skua/trace-summaries?…` (one summary per trace, what Skua's UI
 *   search page calls), same parameters, median of `--runs` requests each.
 * - Browser: cold loads of `/search?lookback=1h&limit=N` in headless Chromium (fresh context each
 *   time): time from navigation start until the result list is in the DOM, and the bytes of the
 *   API responses the page fetched.
 *
 * Options: --spans N (default 50000), --traces N (default 19), --runs N (default 5).
 */
import { bigTrace, dispatchTrace, toRequest } from '../ui/e2e/fixtures.js';
import { ensureUiBuilt, launchBrowser, sendOtlp, startSkua, waitForTrace } from '../ui/e2e/harness.js';

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const f1 = (x: number): string => x.toFixed(1);
const size = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);

async function timedGet(url: string): Promise<{ ms: number; bytes: number; status: number }> {
  const t = performance.now();
  const res = await fetch(url);
  const bytes = (await res.arrayBuffer()).byteLength;
  return { ms: performance.now() - t, bytes, status: res.status };
}

export async function run(args: string[]): Promise<void> {
  const n = opt(args, 'spans', 50_000);
  const others = opt(args, 'traces', 19);
  const runs = opt(args, 'runs', 5);
  const limit = others + 1;
  ensureUiBuilt();
  const skua = await startSkua();
  const browser = await launchBrowser();
  try {
    const now = Date.now();
    const big = bigTrace(n, { startMs: now - 120_000 });
    for (const r of big.requests) await sendOtlp(skua.otlpHttpUrl, r);
    const small = Array.from({ length: others }, (_, i) => dispatchTrace({ seed: 100 + i, startMs: now - 60_000 + i * 1000, error: i % 4 === 0 }));
    for (const t of small) await sendOtlp(skua.otlpHttpUrl, toRequest(t.spans));
    await waitForTrace(skua.queryUrl, big.traceId, n, 120_000);
    for (const t of small) await waitForTrace(skua.queryUrl, t.traceId, t.spans.length);
    const spansTotal = n + small.reduce((a, t) => a + t.spans.length, 0);
    console.log(`search benchmark: 1 trace of ${n.toLocaleString('en-US')} spans + ${others} traces (${spansTotal.toLocaleString('en-US')} spans), limit=${limit}, ${runs} runs, headless Chromium ${browser.version()}`);

    const q = `lookback=1h&start=${(now - 3_600_000) * 1000}&end=${(now + 60_000) * 1000}&limit=${limit}`;
    for (const path of [`/api/traces?${q}`, `/api/skua/trace-summaries?${q}`]) {
      const ms: number[] = [];
      let bytes = 0;
      let status = 0;
      await timedGet(`${skua.queryUrl}${path}`); // warm-up
      for (let i = 0; i < runs; i++) {
        const r = await timedGet(`${skua.queryUrl}${path}`);
        ms.push(r.ms);
        bytes = r.bytes;
        status = r.status;
      }
      const route = path.slice(0, path.indexOf('?'));
      if (status !== 200) console.log(`  HTTP GET ${route}: status ${status} (not available)`);
      else console.log(`  HTTP GET ${route}: ${size(bytes)}, median ${f1(median(ms))} ms (min ${f1(Math.min(...ms))}, max ${f1(Math.max(...ms))})`);
    }

    const loads: Array<{ ms: number; bytes: number; requests: string[] }> = [];
    for (let i = 0; i < runs; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await ctx.newPage();
      await page.goto(`${skua.queryUrl}/search?lookback=1h&limit=${limit}`);
      await page.waitForSelector('[data-testid=search-result]', { timeout: 120_000 });
      const m = await page.evaluate(() => {
        const api = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.includes('/api/')) as PerformanceResourceTiming[];
        return {
          ms: performance.now(),
          bytes: api.reduce((a, e) => a + e.encodedBodySize, 0),
          requests: api.map((e) => `${new URL(e.name).pathname} ${e.encodedBodySize} B`),
        };
      });
      loads.push(m);
      console.log(`  browser load ${i + 1}: results listed after ${f1(m.ms)} ms; API bytes ${size(m.bytes)} [${m.requests.join(', ')}]`);
      await ctx.close();
    }
    console.log(`search page (browser): results listed after median ${f1(median(loads.map((l) => l.ms)))} ms; API responses ${size(median(loads.map((l) => l.bytes)))}`);
  } finally {
    await browser.close();
    await skua.stop();
  }
}
