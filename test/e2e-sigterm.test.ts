// End to end: SIGTERM under load loses no acknowledged span. Several senders post OTLP/HTTP requests to a real Skua
// whose batch processor holds spans for a while; Skua gets SIGTERM mid-load. Every span of every request answered
// 200 must have left the pipeline before the process exited: the pipeline also feeds the `debug` exporter at
// `normal` verbosity, which logs each span's id, so the process output is the record of what was delivered (the
// memory store dies with the process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { sleep, startSkua, type SkuaPorts } from './e2e-skua.js';

const SENDERS = 16;
const SPANS_PER_REQUEST = 50;
const LOAD_MS = 2500;

function config(p: SkuaPorts): string {
  return stringify({
    extensions: {
      jaeger_storage: { backends: { mem: { memory: { max_traces: 100_000 } } } },
      healthcheckv2: { use_v2: true, http: { endpoint: `127.0.0.1:${p.health}` } },
    },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${p.grpc}` }, http: { endpoint: `127.0.0.1:${p.http}` } } },
    },
    // Batches sent by size, with a 30 s timeout: at SIGTERM a partial batch is pending and requests are in flight;
    // they must drain at once.
    processors: { batch: { send_batch_size: 500, timeout: '30s' } },
    exporters: {
      jaeger_storage_exporter: { trace_storage: 'mem' },
      debug: { verbosity: 'normal', sampling_initial: 1_000_000, sampling_thereafter: 1 },
    },
    service: {
      extensions: ['jaeger_storage', 'healthcheckv2'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter', 'debug'] },
      },
      telemetry: {
        metrics: { readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: p.metrics } } } }] },
      },
    },
  });
}

function request(spanIds: string[]): string {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sigterm-load' } }] },
        scopeSpans: [
          {
            spans: spanIds.map((spanId, i) => ({
              traceId,
              spanId,
              name: `op-${i}`,
              kind: 1,
              startTimeUnixNano: String(now),
              endTimeUnixNano: String(now + 1000n),
            })),
          },
        ],
      },
    ],
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} under load: every acknowledged span is delivered before exit, and the exit code is 0`, async () => {
    await underLoad(signal);
  });
}

async function underLoad(signal: NodeJS.Signals): Promise<void> {
  const skua = await startSkua({ config });
  const acked: string[] = [];
  let refused = 0;
  let stop = false;
  try {
    const sender = async (): Promise<void> => {
      while (!stop) {
        const ids = Array.from({ length: SPANS_PER_REQUEST }, () => randomBytes(8).toString('hex'));
        try {
          const res = await fetch(`${skua.otlpHttp}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: request(ids),
            signal: AbortSignal.timeout(20_000),
          });
          await res.arrayBuffer();
          if (res.status === 200) acked.push(...ids);
          else refused++;
        } catch {
          // Connection refused or reset once the receiver has stopped: not acknowledged, so not owed.
          refused++;
          if (!skua.alive()) return;
          await sleep(10);
        }
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);
    await sleep(LOAD_MS);
    const ackedBeforeSignal = acked.length;
    const signalledAt = Date.now();
    const exit = skua.stop(signal, 30_000);
    // Keep sending while it shuts down: whatever it still acknowledges it must deliver too.
    const status = await exit;
    // Batches drain at the signal instead of waiting for the 30 s batch timer (Kubernetes' grace
    // period is 30 s by default): a generous bound that only a hang on the timer can exceed.
    const shutdownMs = Date.now() - signalledAt;
    assert.ok(shutdownMs < 20_000, `shutdown took ${shutdownMs} ms: it waited for the batch timer`);
    stop = true;
    await Promise.all(senders);

    assert.ok(ackedBeforeSignal > 0, 'the load was acknowledged before the signal');
    assert.equal(status.code, 0, `exit status ${JSON.stringify(status)}; output:\n${skua.output().slice(-3000)}`);
    const out = skua.output();
    const missing = acked.filter((id) => !out.includes(id));
    assert.equal(
      missing.length,
      0,
      `${missing.length} of ${acked.length} acknowledged spans never left the pipeline (e.g. ${missing.slice(0, 5).join(', ')})`,
    );
    // For the record (visible with --test-reporter=spec).
    console.log(`${signal}: ${acked.length} spans acknowledged (${ackedBeforeSignal} before the signal), ${refused} requests refused`);
  } finally {
    stop = true;
    await skua.stop('SIGKILL');
  }
}
