/**
 * Storage benchmark: `npm run bench -- storage [--spans N] [--senders N] [--request-spans N]
 * [--queries N] [--settle S] [--dir DIR] [--keep] [--skip-ingest] [--skip-lag] [--seed N]`.
 * `SKUA_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` passes flags to the Skua process (profiling).
 *
 * 1. Data: a realistic generated data set (bench/storage-data.ts: 10 services, ~100 operations,
 *    ~10 attributes per span, events and errors), written once to DIR as OTLP protobuf export
 *    requests (reused by later runs for up to two days, so its timestamps stay within retention).
 * 2. Ingest: a real Skua process (`src/cli/main.ts`: OTLP/HTTP receiver → batch → jaeger_storage
 *    exporter → clickhouse backend, embedded) receives the requests from `--senders` concurrent
 *    keep-alive connections; every request is acknowledged once durable (the write-ahead spool).
 *    Sustained spans/s = spans / (every span inserted, `skua_storage_pending_spans` 0 − first
 *    request).
 * 3. Size: after ingest (and a pause for background merges) Skua stops cleanly; the data
 *    directory is opened here to count rows (nothing lost) and sum the active parts per table;
 *    the compression ratio is the OTLP protobuf bytes sent / bytes on disk.
 * 4. Queries: Skua restarts on the same directory (a restart must reopen everything) and the
 *    Jaeger HTTP API is timed: get trace by id, search by service, service + minDuration, by
 *    attribute (no service), all filters, and the services list (the floor of any request);
 *    p50/p95 over `--queries` requests each, the kinds taking turns, after 10 requests of each
 *    kind over the first half of the data (they warm the code, not the caches); each timed until
 *    its whole answer is received, and until the client has also parsed it.
 * 5. Event-loop lag: in this process, a store on a fresh database takes big writes and a big
 *    query while a timer measures how late the event loop runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { execFileSync } from 'node:child_process';
import { freePorts } from '../src/testutil/ports.js';
import { serviceSection } from '../src/testutil/skua-config.js';
import { encodeTraceRequestProto } from '../src/pdata/proto-encode.js';
import { decodeTraceRequestProto } from '../src/pdata/proto-view.js';
import { Traces } from '../src/pdata/traces.js';
import { dataset, type DatasetFacts } from './storage-data.js';

const root = resolve(new URL('..', import.meta.url).pathname);

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}
function optStr(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;

interface StoredFacts extends Omit<DatasetFacts, 'services' | 'operations'> {
  services: string[];
  operations: string[];
  requests: number;
  otlpBytes: number;
  generatedAt: number;
}

// ------------------------------------------------------------------------------------------------
// Data set file: [u32 length][ExportTraceServiceRequest] …
// ------------------------------------------------------------------------------------------------

function prepareData(dir: string, spans: number, requestSpans: number, seed: number): { file: string; facts: StoredFacts } {
  const base = join(dir, `data-${spans}-${requestSpans}-s${seed}`);
  const file = `${base}.otlp`;
  const factsFile = `${base}.json`;
  if (existsSync(file) && existsSync(factsFile)) {
    const facts = JSON.parse(readFileSync(factsFile, 'utf8')) as StoredFacts;
    if (Date.now() - facts.generatedAt < 2 * 86400_000) {
      console.log(`data set: reusing ${file} (${fmt(facts.spans)} spans, generated ${new Date(facts.generatedAt).toISOString()})`);
      return { file, facts };
    }
  }
  console.log(`data set: generating ${fmt(spans)} spans into ${file} …`);
  const t0 = Date.now();
  const d = dataset({ spans, requestSpans, seed, endMs: Date.now(), windowMs: 3 * 3600_000 });
  const fd = openSync(file, 'w');
  let requests = 0;
  let otlpBytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const header = Buffer.alloc(4);
  for (const req of d.requests()) {
    const body = encodeTraceRequestProto(req);
    header.writeUInt32LE(body.length);
    pending.push(Buffer.from(header), Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    pendingBytes += 4 + body.length;
    otlpBytes += body.length;
    requests++;
    if (pendingBytes > 16 << 20) {
      writeSync(fd, Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    }
    if (requests % 20000 === 0) console.log(`  … ${fmt(d.facts.spans)} spans`);
  }
  if (pending.length) writeSync(fd, Buffer.concat(pending));
  closeSync(fd);
  const facts: StoredFacts = {
    ...d.facts,
    services: [...d.facts.services].sort(),
    operations: [...d.facts.operations],
    requests,
    otlpBytes,
    generatedAt: Date.now(),
  };
  writeFileSync(factsFile, JSON.stringify(facts));
  console.log(`data set: ${fmt(facts.spans)} spans, ${fmt(facts.traces)} traces, ${fmt(requests)} requests, ${mib(otlpBytes)} OTLP protobuf, in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { file, facts };
}

function* readRequests(file: string): Generator<Buffer> {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(64 << 20);
  let have = 0;
  let pos = 0;
  try {
    for (;;) {
      const n = readSync(fd, chunk, have, chunk.length - have, pos);
      pos += n;
      have += n;
      let off = 0;
      while (off + 4 <= have) {
        const len = chunk.readUInt32LE(off);
        if (off + 4 + len > have) break;
        yield Buffer.from(chunk.subarray(off + 4, off + 4 + len)); // a copy: the chunk is reused
        off += 4 + len;
      }
      chunk.copy(chunk, 0, off, have);
      have -= off;
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
}

// ------------------------------------------------------------------------------------------------
// Skua child process
// ------------------------------------------------------------------------------------------------

interface Skua {
  proc: ChildProcess;
  otlp: number;
  query: number;
  /** Prometheus port of Skua's own metrics. */
  metrics: number;
  stop(): Promise<number | null>;
}

async function startSkua(dataPath: string, workDir: string): Promise<Skua> {
  const [otlp, query, metrics] = await freePorts(3);
  const cfg = `${serviceSection({ extensions: ['jaeger_storage', 'jaeger_query'], processors: ['batch'], logLevel: 'warn', metricsPort: metrics })}extensions:
  jaeger_storage:
    backends:
      main:
        clickhouse:
          embedded:
            path: ${dataPath}
  jaeger_query:
    storage:
      traces: main
    http:
      endpoint: 127.0.0.1:${query}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlp}
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: main
`;
  const cfgFile = join(workDir, 'skua-bench.yaml');
  writeFileSync(cfgFile, cfg);
  const proc = spawn(process.execPath, [...(process.env['SKUA_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/cli/main.ts', '--config', cfgFile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const ready = new Promise<void>((res, rej) => {
    const onLine = (line: string) => {
      if (log.length < 20000) log += line + '\n';
      if (line.includes('Everything is ready')) res();
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', onLine);
    proc.on('exit', (code) => rej(new Error(`skua exited (${code}) before it was ready:\n${log}`)));
  });
  // warn-level logs do not print the ready line: wait for the query port instead.
  const t0 = Date.now();
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${query}/api/services`).then((r) => r.ok, () => false);
    if (ok) break;
    if (proc.exitCode !== null) await ready;
    if (Date.now() - t0 > 120_000) throw new Error(`skua did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  ready.catch(() => undefined);
  return {
    proc,
    metrics,
    otlp,
    query,
    stop: () =>
      new Promise((res) => {
        if (proc.exitCode !== null) return res(proc.exitCode);
        proc.once('exit', (code) => res(code));
        proc.kill('SIGTERM');
      }),
  };
}

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}
function rssBytes(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
  } catch {
    return NaN;
  }
}

// ------------------------------------------------------------------------------------------------
// Ingest
// ------------------------------------------------------------------------------------------------

interface IngestResult {
  spans: number;
  /** From the first request until every span is inserted (nothing pending in the store). */
  seconds: number;
  /** From the first request until the last acknowledgement. */
  ackSeconds: number;
  spansPerSec: number;
  retries: number;
  latencyP50: number;
  latencyP99: number;
  skuaCpuSeconds: number;
  skuaMaxRss: number;
  /** CPU of this process (the sender: file reads, HTTP client) during ingest. */
  senderCpuSeconds: number;
}

/** Waits until Skua's store has inserted every span it acknowledged (skua_storage_pending_spans 0). */
async function drained(skua: Skua): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const text = await fetch(`http://127.0.0.1:${skua.metrics}/metrics`).then((r) => r.text());
    const m = /^skua_storage_pending_spans\{backend="main"\} (\d+)/m.exec(text);
    if (!m) throw new Error('skua_storage_pending_spans{backend="main"} is missing from the metrics');
    if (m[1] === '0') return;
    if (Date.now() - t0 > 600_000) throw new Error(`the store still has ${m[1]} spans pending after 10 minutes`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ingest(skua: Skua, file: string, facts: StoredFacts, senders: number): Promise<IngestResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: senders });
  const post = (body: Buffer) =>
    new Promise<{ status: number; retryAfter: number }>((res, rej) => {
      const r = request(
        { host: '127.0.0.1', port: skua.otlp, path: '/v1/traces', method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
        (resp) => {
          resp.resume();
          resp.on('end', () => res({ status: resp.statusCode ?? 0, retryAfter: Number(resp.headers['retry-after'] ?? 0) }));
        },
      );
      r.on('error', rej);
      r.end(body);
    });
  const it = readRequests(file);
  const latencies: number[] = [];
  let retries = 0;
  let sentSpans = 0;
  const cpu0 = cpuSeconds(skua.proc.pid!);
  const senderCpu0 = process.cpuUsage();
  let maxRss = 0;
  const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, rssBytes(skua.proc.pid!))), 1000);
  const t0 = Date.now();
  let lastReport = t0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const n = it.next();
      if (n.done) return;
      const body = n.value;
      for (let attempt = 0; ; attempt++) {
        const s = performance.now();
        const { status, retryAfter } = await post(body);
        if (status === 200) {
          latencies.push(performance.now() - s);
          break;
        }
        if (status !== 503 && status !== 429) throw new Error(`OTLP export answered ${status}`);
        retries++;
        await new Promise((r) => setTimeout(r, retryAfter > 0 ? Math.min(retryAfter * 1000, 2000) : 100 * Math.min(attempt + 1, 10)));
      }
      done++;
      const now = Date.now();
      if (now - lastReport > 15000) {
        lastReport = now;
        const approx = (done / facts.requests) * facts.spans;
        console.log(`  … ${fmt(approx)} spans in ${((now - t0) / 1000).toFixed(0)} s (${fmt(approx / ((now - t0) / 1000))} spans/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: senders }, worker));
  const ackSeconds = (Date.now() - t0) / 1000;
  // Acknowledged is not yet stored: with the write-ahead spool the last rows are inserted after
  // their acknowledgement. Stored = the store reports nothing pending.
  await drained(skua);
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(rssTimer);
  agent.destroy();
  sentSpans = facts.spans;
  latencies.sort((a, b) => a - b);
  return {
    spans: sentSpans,
    seconds,
    ackSeconds,
    spansPerSec: sentSpans / seconds,
    retries,
    latencyP50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
    latencyP99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    skuaCpuSeconds: cpuSeconds(skua.proc.pid!) - cpu0,
    skuaMaxRss: maxRss,
    senderCpuSeconds: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(senderCpu0)),
  };
}

// ------------------------------------------------------------------------------------------------
// Size (data directory opened in this process while Skua is stopped)
// ------------------------------------------------------------------------------------------------

interface SizeResult {
  rows: number;
  duBytes: number;
  tables: { table: string; bytes: number; rows: number; parts: number }[];
  tableBytes: number;
  spanColumnsUncompressed: number;
  spanColumnsCompressed: number;
}

async function measureSize(dataPath: string): Promise<SizeResult> {
  const duBytes = Number(execFileSync('du', ['-sb', dataPath], { encoding: 'utf8' }).split('\t')[0]);
  const { createClient } = await import('@clickhouse/client');
  const { createChdbConnection } = await import('chdb/connection');
  const client = createClient({ connection: createChdbConnection({ path: dataPath }) as never, clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
  try {
    const q = async <T>(query: string) => (await (await client.query({ query, format: 'JSONEachRow' })).json()) as T[];
    const [c] = await q<{ n: string }>('SELECT count() AS n FROM skua.otel_traces');
    const tables = await q<{ table: string; bytes: string; rows: string; parts: string }>(
      "SELECT table, sum(bytes_on_disk) AS bytes, sum(rows) AS rows, count() AS parts FROM system.parts WHERE database = 'skua' AND active GROUP BY table ORDER BY table",
    );
    const [cols] = await q<{ c: string; u: string }>(
      "SELECT sum(column_data_compressed_bytes) AS c, sum(column_data_uncompressed_bytes) AS u FROM system.parts_columns WHERE database = 'skua' AND table = 'otel_traces' AND active",
    );
    const t = tables.map((x) => ({ table: x.table, bytes: Number(x.bytes), rows: Number(x.rows), parts: Number(x.parts) }));
    return {
      rows: Number(c!.n),
      duBytes,
      tables: t,
      tableBytes: t.reduce((a, x) => a + x.bytes, 0),
      spanColumnsCompressed: Number(cols!.c),
      spanColumnsUncompressed: Number(cols!.u),
    };
  } finally {
    await client.close();
    const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void> };
    await chdb.drainPending?.();
  }
}

// ------------------------------------------------------------------------------------------------
// Queries through the HTTP API
// ------------------------------------------------------------------------------------------------

interface QueryStat {
  name: string;
  /** Until the whole answer is received (the API's latency). */
  p50: number;
  p95: number;
  mean: number;
  /** Until the answer is also parsed by the client (JSON.parse). */
  parsedP50: number;
  parsedP95: number;
  avgTraces: number;
  n: number;
}

/** Requests of each kind before its timed ones (see warmWindow). */
const WARM_UP = 10;
const FLOOR = 'services list (floor)';

async function timeQueries(skua: Skua, facts: StoredFacts, n: number): Promise<QueryStat[]> {
  const base = `http://127.0.0.1:${skua.query}`;
  const startUs = facts.startMs * 1000;
  const endUs = facts.endMs * 1000; // the data's end, as 'now' is for a live system
  const window = `start=${startUs}&end=${endUs}`;
  // Warm-up requests search the first half of the data instead: they run the code (JavaScript is
  // compiled while it runs: without them the first ~8 searches after a start took 50–140 ms instead
  // of ~40) but do not read the granules or fill the caches the measured requests use.
  const warmWindow = `start=${startUs}&end=${Math.floor((facts.startMs + facts.endMs) / 2) * 1000}`;
  const pick = <T>(a: readonly T[], i: number): T => a[(i * 7919) % a.length]!;
  const services = facts.services.filter((s) => s !== '');
  const probes = facts.probes;
  const kinds: { name: string; url: (i: number, window?: string) => string }[] = [
    // The stack's floor: HTTP, one engine query on a small table, a tiny answer. Measured between
    // the others, it shows how fast the host was while they ran (this machine's varies by ~30%).
    { name: FLOOR, url: () => `${base}/api/services` },
    { name: 'get trace by id', url: (i) => `${base}/api/traces/${pick(facts.sampleTraceIds, i)}` },
    { name: 'search by service', url: (i, w = window) => `${base}/api/traces?service=${encodeURIComponent(pick(services, i))}&${w}&limit=20` },
    { name: 'service + minDuration', url: (i, w = window) => `${base}/api/traces?service=${encodeURIComponent(pick(services, i))}&minDuration=100ms&${w}&limit=20` },
    {
      name: 'by attribute (user.id)',
      url: (i, w = window) => `${base}/api/traces?tags=${encodeURIComponent(JSON.stringify({ 'user.id': pick(facts.sampleUserIds, i) }))}&${w}&limit=20`,
    },
    {
      name: 'all filters',
      url: (i, w = window) => {
        const p = pick(probes, i);
        const min = Math.max(0, Math.floor(p.durationNs / 2000)); // µs
        const max = Math.ceil((p.durationNs * 2) / 1000);
        return (
          `${base}/api/traces?service=${encodeURIComponent(p.service)}&operation=${encodeURIComponent(p.operation)}` +
          `&tags=${encodeURIComponent(JSON.stringify({ 'user.id': p.userId }))}&minDuration=${min}us&maxDuration=${max}us&${w}&limit=20`
        );
      },
    },
  ];
  const out: QueryStat[] = [];
  // One keep-alive connection through node:http, as a load tool's client: the WHATWG fetch of
  // Node 20 (undici) added ~5 ms per ~500 KB answer in this process (measured side by side), which
  // is the client's cost, not the API's. A request is timed from its start until its whole answer
  // is received, as load tools time HTTP requests; the time until the client has also parsed it
  // (JSON.parse, 5–9 ms for a 500 KB search answer on this machine) is reported beside it.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const k of kinds) for (let i = 0; i < WARM_UP; i++) await httpGet(k.url(1000 + i, warmWindow), agent);
    // The kinds take turns, so that a slow minute of the host falls on all of them alike.
    const timed = kinds.map((k) => ({ ...k, times: [] as number[], parsed: [] as number[], items: 0 }));
    for (let i = 0; i < n; i++) {
      for (const k of timed) {
        const url = k.url(i);
        const s = performance.now();
        const r = await httpGet(url, agent);
        const received = performance.now();
        if (r.status !== 200) throw new Error(`${k.name}: ${url} answered ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
        const body = JSON.parse(r.body.toString('utf8')) as { data?: unknown[] };
        k.times.push(received - s);
        k.parsed.push(performance.now() - s);
        k.items += body.data?.length ?? 0;
      }
    }
    const at = (sorted: number[], q: number) => sorted[Math.min(n - 1, Math.floor(n * q))]!;
    for (const { name, times, parsed, items } of timed) {
      times.sort((a, b) => a - b);
      parsed.sort((a, b) => a - b);
      out.push({
        name,
        p50: at(times, 0.5),
        p95: at(times, 0.95),
        mean: times.reduce((a, b) => a + b, 0) / n,
        parsedP50: at(parsed, 0.5),
        parsedP95: at(parsed, 0.95),
        avgTraces: items / n,
        n,
      });
    }
  } finally {
    agent.destroy();
  }
  return out;
}

/** A GET through `agent`: the status and the whole body. */
function httpGet(url: string, agent: Agent): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

// ------------------------------------------------------------------------------------------------
// Event-loop lag, in this process
// ------------------------------------------------------------------------------------------------

interface LagResult {
  writeSpans: number;
  writeBatch: number;
  writeLagMax: number;
  writeLagP99: number;
  writeLatencyP50: number;
  writeLatencyP99: number;
  queryMs: number;
  queryLagMax: number;
  queryLagP99: number;
  /** The same writes with `write.fsync: true` (the first 200k spans). */
  fsyncSpans: number;
  fsyncLatencyP50: number;
  fsyncLatencyP99: number;
}

/** Write latency (ms, sorted) of `batches` written by two writers in flight. */
async function writeAll(store: { writeTraces(td: Traces, ctx: { tenant: string }): Promise<void> }, batches: readonly Traces[]): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  // Two writers in flight, as the batch processor's default max_concurrent_exports.
  await Promise.all(
    [0, 1].map(async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        const s = performance.now();
        await store.writeTraces(b, { tenant: '' });
        lat.push(performance.now() - s);
      }
    }),
  );
  return lat.sort((a, b) => a - b);
}

async function measureLag(dir: string): Promise<LagResult> {
  const { ClickHouseStore } = await import('../src/storage/clickhouse/clickhouse.js');
  const { createDefaultConfig } = await import('../src/storage/clickhouse/config.js');
  const path = join(dir, 'lag-data');
  rmSync(path, { recursive: true, force: true });
  const store = new ClickHouseStore({ config: { ...createDefaultConfig(), embedded: { path } }, name: 'lag' });
  await store.start();
  try {
    // 400k spans as the pipeline hands them over: decoded requests merged into 8192-span batches.
    const decoded: Traces[] = [];
    for (const req of dataset({ spans: 400_000, seed: 99, requestSpans: 500 }).requests()) decoded.push(decodeTraceRequestProto(encodeTraceRequestProto(req)).traces);
    const batches: Traces[] = [];
    for (let i = 0; i < decoded.length; i += 16) batches.push(Traces.merge(decoded.slice(i, i + 16)));
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const lat = await writeAll(store, batches);
    h.disable();
    const writeLagMax = h.max / 1e6;
    const writeLagP99 = h.percentile(99) / 1e6;
    // A big query: dependencies over everything (a join over all spans).
    const q = monitorEventLoopDelay({ resolution: 5 });
    q.enable();
    const s = performance.now();
    await store.getDependencies({ start: 0n, end: BigInt(Date.now() + 3600_000) * 1_000_000n }, { tenant: '' });
    const queryMs = performance.now() - s;
    q.disable();
    // The cost of fsync: the same batches into a store with write.fsync: true.
    const base = createDefaultConfig();
    const fsyncStore = new ClickHouseStore({ config: { ...base, embedded: { path }, database: 'skua_fsync', write: { ...base.write, fsync: true } }, name: 'lag-fsync' });
    await fsyncStore.start();
    let flat: number[];
    const fsyncBatches = batches.slice(0, 25);
    try {
      flat = await writeAll(fsyncStore, fsyncBatches);
    } finally {
      await fsyncStore.close();
    }
    return {
      fsyncSpans: fsyncBatches.reduce((a, t) => a + t.spanCount, 0),
      fsyncLatencyP50: flat[Math.floor(flat.length / 2)]!,
      fsyncLatencyP99: flat[Math.floor(flat.length * 0.99)]!,
      writeSpans: decoded.reduce((a, t) => a + t.spanCount, 0),
      writeBatch: batches[0]!.spanCount,
      writeLagMax,
      writeLagP99,
      writeLatencyP50: lat[Math.floor(lat.length / 2)]!,
      writeLatencyP99: lat[Math.floor(lat.length * 0.99)]!,
      queryMs,
      queryLagMax: q.max / 1e6,
      queryLagP99: q.percentile(99) / 1e6,
    };
  } finally {
    await store.close();
    rmSync(path, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------

export async function run(args: string[]): Promise<void> {
  const spans = opt(args, 'spans', 10_000_000);
  const senders = opt(args, 'senders', 64);
  const requestSpans = opt(args, 'request-spans', 500);
  const nQueries = opt(args, 'queries', 50);
  const seed = opt(args, 'seed', 42);
  const dir = resolve(optStr(args, 'dir', join(root, '.bench-data', 'storage')));
  const keep = args.includes('--keep');
  const skipIngest = args.includes('--skip-ingest');
  const settle = opt(args, 'settle', 60);
  mkdirSync(dir, { recursive: true });
  const { file, facts } = prepareData(dir, spans, requestSpans, seed);
  const dataPath = join(dir, `skua-data-${spans}`);

  let ing: IngestResult | undefined;
  if (!skipIngest) {
    rmSync(dataPath, { recursive: true, force: true });
    console.log(`ingest: ${fmt(facts.spans)} spans in ${fmt(facts.requests)} OTLP/HTTP protobuf requests, ${senders} concurrent senders → Skua (embedded ClickHouse at ${dataPath})`);
    const skua = await startSkua(dataPath, dir);
    try {
      ing = await ingest(skua, file, facts, senders);
      console.log(`ingest: ${fmt(ing.spansPerSec)} spans/s sustained (${ing.seconds.toFixed(1)} s until stored, the last acknowledgement at ${ing.ackSeconds.toFixed(1)} s; ${ing.retries} retried requests)`);
      console.log(`ingest: waiting ${settle} s for background merges …`);
      await new Promise((r) => setTimeout(r, settle * 1000));
    } finally {
      const code = await skua.stop();
      if (code !== 0) console.log(`warning: skua exited with ${code}`);
    }
  } else if (!existsSync(dataPath)) {
    throw new Error(`--skip-ingest: no data at ${dataPath}`);
  }

  const size = await measureSize(dataPath);
  const lost = facts.spans - size.rows;
  console.log(`size: ${fmt(size.rows)} spans stored (${lost === 0 ? 'none lost' : `${lost} MISSING`}), ${mib(size.duBytes)} on disk`);

  console.log('queries: restarting Skua on the same data …');
  const skua = await startSkua(dataPath, dir);
  let queries: QueryStat[];
  try {
    queries = await timeQueries(skua, facts, nQueries);
  } finally {
    await skua.stop();
  }

  let lag: LagResult | undefined;
  if (!args.includes('--skip-lag')) {
    console.log('event-loop lag: writes and a big query in this process …');
    lag = await measureLag(dir);
  }
  if (!keep) rmSync(dataPath, { recursive: true, force: true });

  // ---------------------------------------------------------------------------------------------
  const ratioDu = facts.otlpBytes / size.duBytes;
  const ratioParts = facts.otlpBytes / size.tableBytes;
  const q = (name: string) => queries.find((x) => x.name === name)!;
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  // Until the whole answer is received; in brackets, until the client has also parsed it.
  const lat = (x: QueryStat) => `${ms(x.p50)} / ${ms(x.p95)} (parsed: ${ms(x.parsedP50)} / ${ms(x.parsedP95)})`;
  const lines: string[] = [];
  lines.push(`Skua storage benchmark — ${fmt(facts.spans)} spans, ${fmt(facts.traces)} traces, ${facts.services.length} services, ${facts.operations.length} operations; embedded ClickHouse (chDB); ${new Date().toISOString().slice(0, 10)}`);
  lines.push('');
  lines.push('| Metric | Skua (this machine, 2 cores) | Goal | Jaeger ClickHouse (4 OCPUs, 10M spans) |');
  lines.push('| --- | --- | --- | --- |');
  if (ing) lines.push(`| Ingest, sustained (OTLP/HTTP → stored) | ${fmt(ing.spansPerSec)} spans/s | ≥ 60,000 | 52,129 spans/s |`);
  lines.push(`| Compression vs OTLP protobuf (active parts) | ${ratioParts.toFixed(1)}× (${mib(facts.otlpBytes)} → ${mib(size.tableBytes)}) | ≥ 10× | 8.6× (ClickHouse's own ratio) |`);
  lines.push(`| Compression vs OTLP protobuf (du of the data directory) | ${ratioDu.toFixed(1)}× (${mib(size.duBytes)}, incl. merged-away parts kept 8 min) | | |`);
  lines.push(`| Compression, ClickHouse's own ratio (otel_traces columns) | ${(size.spanColumnsUncompressed / size.spanColumnsCompressed).toFixed(1)}× | | 8.6× |`);
  lines.push(`| Get trace by id, p50 / p95 | ${lat(q('get trace by id'))} | ≤ 30 ms | 101 ms |`);
  lines.push(`| Search by service, p50 / p95 | ${lat(q('search by service'))} | ≤ 40 ms | 37 ms |`);
  lines.push(`| Search by service + minDuration, p50 / p95 | ${lat(q('service + minDuration'))} | | 43 ms (duration range) |`);
  lines.push(`| Search by attribute (no service), p50 / p95 | ${lat(q('by attribute (user.id)'))} | ≤ 150 ms | 1,769 ms |`);
  lines.push(`| Search with all filters, p50 / p95 | ${lat(q('all filters'))} | ≤ 100 ms | 139 ms |`);
  lines.push(`| Services list (the floor: HTTP + one engine query), p50 / p95 | ${lat(q(FLOOR))} | | |`);
  lines.push('');
  lines.push('Details:');
  if (ing) {
    lines.push(
      `- ingest: ${fmt(ing.spans)} spans stored in ${ing.seconds.toFixed(1)} s (the first request to the last span inserted; the last acknowledgement at ${ing.ackSeconds.toFixed(1)} s) from ${senders} senders (${requestSpans} spans/request); request latency (acknowledged once durable) p50 ${ms(ing.latencyP50)}, p99 ${ms(ing.latencyP99)}; ${ing.retries} requests retried after 503`,
    );
    lines.push(`- Skua process during ingest: ${ing.skuaCpuSeconds.toFixed(0)} CPU-s (${(ing.skuaCpuSeconds / ing.seconds).toFixed(2)} cores, receiver + ClickHouse engine in-process), max RSS ${mib(ing.skuaMaxRss)}; the sender (this process) ${(ing.senderCpuSeconds / ing.seconds).toFixed(2)} cores of the same 2`);
  }
  lines.push(`- stored: ${fmt(size.rows)} of ${fmt(facts.spans)} spans after a clean stop and a reopen (${lost === 0 ? 'nothing lost' : `${lost} missing`})`);
  lines.push(`- on disk: ${mib(size.duBytes)} (du of the data directory); active parts: ${size.tables.map((t) => `${t.table} ${mib(t.bytes)} (${t.parts} parts)`).join(', ')}; OTLP/active parts = ${ratioParts.toFixed(1)}×; ${(size.duBytes / facts.spans).toFixed(1)} bytes/span`);
  for (const x of queries) lines.push(`- ${x.name}: p50 ${ms(x.p50)}, p95 ${ms(x.p95)}, mean ${ms(x.mean)} until the whole answer is received; p50 ${ms(x.parsedP50)}, p95 ${ms(x.parsedP95)} until it is also parsed (JSON.parse); ${x.avgTraces.toFixed(1)} ${x.name === FLOOR ? 'services' : 'traces'} per answer, ${x.n} requests after ${WARM_UP} on the first half of the data (HTTP API over one keep-alive node:http connection; the kinds take turns)`);
  if (lag) {
    lines.push(
      `- event loop (store in-process): writing ${fmt(lag.writeSpans)} spans in ${fmt(lag.writeBatch)}-span batches, 2 in flight: lag max ${ms(lag.writeLagMax)}, p99 ${ms(lag.writeLagP99)}; write (ack) latency p50 ${ms(lag.writeLatencyP50)}, p99 ${ms(lag.writeLatencyP99)}`,
    );
    lines.push(`- durability cost: the first ${fmt(lag.fsyncSpans)} of those spans again with write.fsync: true (the spool's appends fsynced before the ack, every part before its segment is removed): write latency p50 ${ms(lag.fsyncLatencyP50)}, p99 ${ms(lag.fsyncLatencyP99)}`);
    lines.push(`- event loop during a ${ms(lag.queryMs)} dependencies query over all those spans: lag max ${ms(lag.queryLagMax)}, p99 ${ms(lag.queryLagP99)}`);
  }
  const report = lines.join('\n');
  console.log('\n' + report);
  writeFileSync(join(dir, `result-${spans}.md`), report + '\n');
  writeFileSync(join(dir, `result-${spans}.json`), JSON.stringify({ facts: { ...facts, probes: undefined, sampleTraceIds: undefined, sampleUserIds: undefined, operations: facts.operations.length }, ingest: ing, size, queries, lag }, null, 2));
  void statSync;
}
