/**
 * Durability of the embedded ClickHouse store, end to end (issue 3, item 5): a real Skua
 * (`node --import tsx src/cli/main.ts --config …`, OTLP/HTTP in, batch processor, clickhouse
 * embedded backend, Jaeger query API) on free ports and a temporary data directory.
 *
 * - `kill -9` right after acknowledgements: several senders post OTLP/HTTP JSON; the moment the
 *   K-th request is answered 200 the process gets SIGKILL (other requests still in flight). A new
 *   Skua on the same directory must return every span of every acknowledged request.
 * - A clean shutdown (SIGTERM) flushes what the batch processor and the store hold (both with long
 *   timers here, so only the shutdown drain can write them), exits 0, and a restart serves it all.
 *
 * The test process itself never loads chDB: every engine lives in a Skua child process.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePorts } from '../../testutil/ports.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skua-ch-durability-'));
const dataPath = join(dir, 'data');
const running = new Set<ChildProcess>();

after(() => {
  for (const p of running) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface RunOptions {
  /** batch processor timeout (default 200ms). */
  batchTimeout?: string;
  /** clickhouse write.batch_timeout (default: the backend's). */
  storeBatchTimeout?: string;
}

interface Skua {
  proc: ChildProcess;
  otlp: string;
  query: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let runs = 0;

async function startSkua(o: RunOptions = {}): Promise<Skua> {
  const [http, query, health] = (await freePorts(3)) as [number, number, number];
  const config = stringify({
    extensions: {
      jaeger_storage: {
        backends: {
          ch: {
            clickhouse: {
              embedded: { path: dataPath },
              ...(o.storeBatchTimeout ? { write: { batch_timeout: o.storeBatchTimeout } } : {}),
            },
          },
        },
      },
      jaeger_query: { storage: { traces: 'ch' }, http: { endpoint: `127.0.0.1:${query}` } },
      healthcheckv2: { use_v2: true, http: { endpoint: `127.0.0.1:${health}` } },
    },
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${http}` } } } },
    processors: { batch: { timeout: o.batchTimeout ?? '200ms', send_batch_size: 100_000 } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'ch' } },
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] } },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
    },
  });
  const file = join(dir, `config-${++runs}.yaml`);
  writeFileSync(file, config);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('NODE_TEST') && k !== 'NODE_OPTIONS') env[k] = v;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--config', file], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`skua exited before it was healthy:\n${out.slice(-4000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${health}/status`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`skua not healthy within 60 s:\n${out.slice(-4000)}`);
    }
    await sleep(100);
  }
  return { proc, otlp: `http://127.0.0.1:${http}/v1/traces`, query: `http://127.0.0.1:${query}`, output: () => out, exited };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Sent {
  traceId: string;
  spanIds: string[];
}

const SPANS_PER_REQUEST = 20;

/** One OTLP/HTTP JSON request: one trace of SPANS_PER_REQUEST spans (a root and its children). */
function request(service: string): { body: string; sent: Sent } {
  const traceId = randomBytes(16).toString('hex');
  const spanIds = Array.from({ length: SPANS_PER_REQUEST }, () => randomBytes(8).toString('hex'));
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'durability-test' },
            spans: spanIds.map((spanId, i) => ({
              traceId,
              spanId,
              parentSpanId: i === 0 ? '' : spanIds[0],
              name: i === 0 ? 'root' : `child-${i}`,
              kind: i === 0 ? 2 : 3,
              startTimeUnixNano: String(now + BigInt(i) * 1000n),
              endTimeUnixNano: String(now + BigInt(i) * 1000n + 500_000n),
              attributes: [{ key: 'i', value: { intValue: String(i) } }],
            })),
          },
        ],
      },
    ],
  });
  return { body, sent: { traceId, spanIds } };
}

function post(skua: Skua, body: string): Promise<number> {
  return fetch(skua.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) }).then(
    async (res) => {
      const status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      return status;
    },
  );
}

/** The span ids the query API returns for a trace ([] when it is not found). */
async function storedSpanIds(skua: Skua, traceId: string): Promise<string[]> {
  const res = await fetch(`${skua.query}/api/traces/${traceId}`, { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (res.status === 404) return [];
  assert.equal(res.status, 200, `GET /api/traces/${traceId}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { data: { traceID: string; spans: { spanID: string }[] }[] };
  return body.data.flatMap((t) => t.spans.map((s) => s.spanID));
}

/** Asserts that every acknowledged span is served by `skua`; returns how many were checked. */
async function assertAllStored(skua: Skua, acked: readonly Sent[], what: string): Promise<number> {
  const missing: string[] = [];
  let spans = 0;
  for (let i = 0; i < acked.length; i += 8) {
    await Promise.all(
      acked.slice(i, i + 8).map(async (s) => {
        const got = new Set(await storedSpanIds(skua, s.traceId));
        for (const id of s.spanIds) {
          spans++;
          if (!got.has(id)) missing.push(`${s.traceId}/${id}`);
        }
      }),
    );
  }
  assert.deepEqual(missing.slice(0, 20), [], `${what}: ${missing.length} of ${spans} acknowledged spans are missing after the restart`);
  return spans;
}

async function services(skua: Skua): Promise<string[]> {
  const res = await fetch(`${skua.query}/api/services`, { signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: string[] }).data;
}

async function stop(skua: Skua, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = Date.now();
  skua.proc.kill(signal);
  const timer = setTimeout(() => skua.proc.kill('SIGKILL'), 30_000);
  const r = await skua.exited;
  clearTimeout(timer);
  return { ...r, ms: Date.now() - t0 };
}

const KILL_AFTER_ACKS = 40;
const SENDERS = 6;

/** Acknowledged requests of the kill -9 test, checked again after the second restart. */
const killAcked: Sent[] = [];

describe('clickhouse embedded durability (real Skua, OTLP/HTTP)', () => {
  test('kill -9 right after acknowledgements loses no acknowledged span', async (t) => {
    const skua = await startSkua();
    let killed = false;
    let inFlightAtKill = 0;
    let inFlight = 0;
    const latencies: number[] = [];
    const sender = async (): Promise<void> => {
      while (!killed) {
        const { body, sent } = request('durability-kill');
        const t0 = performance.now();
        inFlight++;
        let status: number;
        try {
          status = await post(skua, body);
        } catch {
          inFlight--;
          if (killed) return; // the process died with this request in flight: not acknowledged
          throw new Error(`request failed before the kill:\n${skua.output().slice(-3000)}`);
        }
        inFlight--;
        if (killed) return; // answered after the kill signal was sent: not counted
        assert.equal(status, 200, `OTLP/HTTP answered ${status}:\n${skua.output().slice(-3000)}`);
        latencies.push(performance.now() - t0);
        killAcked.push(sent);
        if (killAcked.length >= KILL_AFTER_ACKS) {
          // At once, in the same tick as the acknowledgement: nothing gets time to finish writing.
          killed = true;
          inFlightAtKill = inFlight;
          skua.proc.kill('SIGKILL');
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    const exit = await skua.exited;
    assert.equal(exit.signal, 'SIGKILL', 'the first Skua died of SIGKILL');
    latencies.sort((a, b) => a - b);
    t.diagnostic(
      `${killAcked.length} requests (${killAcked.length * SPANS_PER_REQUEST} spans) acknowledged before kill -9, ${inFlightAtKill} in flight at the kill; ` +
        `ack latency p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(0)} ms, max ${latencies[latencies.length - 1]!.toFixed(0)} ms`,
    );

    const again = await startSkua();
    try {
      const n = await assertAllStored(again, killAcked, 'after kill -9');
      assert.equal(n, KILL_AFTER_ACKS * SPANS_PER_REQUEST);
      assert.ok((await services(again)).includes('durability-kill'), 'the service list survives kill -9');
    } finally {
      const r = await stop(again, 'SIGTERM');
      assert.equal(r.code, 0, `exit code after SIGTERM:\n${again.output().slice(-3000)}`);
    }
  });

  test('SIGTERM flushes what the batch processor and the store hold; a restart reopens all the data', async (t) => {
    // Long timers: only the shutdown drain can write these requests before the process exits.
    const skua = await startSkua({ batchTimeout: '20s', storeBatchTimeout: '20s' });
    const acked: Sent[] = [];
    const answers: Promise<void>[] = [];
    const statuses: (number | string)[] = [];
    for (let i = 0; i < 12; i++) {
      const { body, sent } = request('durability-term');
      answers.push(
        post(skua, body).then(
          (status) => {
            statuses.push(status);
            if (status === 200) acked.push(sent);
          },
          (err: unknown) => void statuses.push(String(err)),
        ),
      );
    }
    await sleep(1000); // the requests are received and held by the batch processor (20 s timer)
    assert.equal(statuses.length, 0, `no request may be answered before the batch timeout: ${JSON.stringify(statuses)}`);
    const r = await stop(skua, 'SIGTERM');
    await Promise.all(answers);
    t.diagnostic(`SIGTERM to exit: ${r.ms} ms; answers: ${JSON.stringify(statuses)}`);
    assert.equal(r.code, 0, `exit code after SIGTERM:\n${skua.output().slice(-3000)}`);
    assert.ok(r.ms < 15_000, `shutdown drained at once rather than waiting for the 20 s timers (${r.ms} ms)`);
    assert.equal(acked.length, 12, `every held request is answered 200 at shutdown: ${JSON.stringify(statuses)}`);

    const again = await startSkua();
    try {
      await assertAllStored(again, acked, 'after SIGTERM and restart');
      // What survived kill -9 (previous test) survives this second restart too.
      if (killAcked.length > 0) await assertAllStored(again, killAcked, 'kill -9 data after a second restart');
      const list = await services(again);
      assert.ok(list.includes('durability-term'), `services after restart: ${list.join(', ')}`);
    } finally {
      const stopped = await stop(again, 'SIGTERM');
      assert.equal(stopped.code, 0);
    }
  });
});
