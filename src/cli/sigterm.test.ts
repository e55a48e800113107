/**
 * SIGTERM under load loses no acknowledged span.
 *
 * Design: the memory store of the process being stopped dies with it, so the proof needs a witness
 * that outlives it. The test runs a second Skua in-process as the downstream (OTLP/HTTP receiver →
 * memory store, read directly by the test) and starts the real CLI as a child process:
 *
 *   senders (test) --OTLP/HTTP--> child skua: otlp → batch(timeout 300ms) → otlphttp ─→ downstream skua → memory store
 *                                                                         └→ jaeger_storage_exporter (its own memory store)
 *
 * Several senders keep requests with known span ids in flight; the child gets SIGTERM while batches
 * are still waiting for their timeout. Every span whose request was answered 200 must be in the
 * downstream store once the child has exited (with code 0) — including the requests that were
 * waiting inside the batch processor when the signal came, which must be answered 200 after
 * draining (at least one such request is required, so the test proves draining, not just
 * "nothing was pending"). Requests refused or cut off are not acknowledged and may be retried by a
 * real client; they are not required to be stored.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../testutil/ports.js';
import { readyMessage, startService } from '../service/service.js';
import { captureLogger, storedSpanIds } from '../service/testing.js';
import { isStorageExtension } from '../storage/extension.js';
import { spawnSkua } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'skua-sigterm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function body(spanIds: string[]): string {
  const traceId = randomBytes(16).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'load' } }] },
        scopeSpans: [
          {
            spans: spanIds.map((spanId, i) => ({
              traceId,
              spanId,
              name: `op${i}`,
              kind: 2,
              startTimeUnixNano: String(now - 1_000_000n),
              endTimeUnixNano: String(now),
            })),
          },
        ],
      },
    ],
  });
}

test('SIGTERM under load: receivers stop, batches drain downstream, exit 0, no acknowledged span lost', async (t) => {
  const [down, inHttp, health] = await freePorts(3);
  const downstream = await startService({
    logger: captureLogger().logger,
    yaml: `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:${down}"}}}}
exporters: {jaeger_storage_exporter: {trace_storage: witness}}
extensions: {jaeger_storage: {backends: {witness: {memory: {max_traces: 1000000}}}}}
service:
  extensions: [jaeger_storage]
  pipelines: {traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}}
  telemetry: {metrics: {level: none}}
`,
  });
  t.after(() => downstream.shutdown());

  const cfg = join(dir, 'child.yaml');
  writeFileSync(
    cfg,
    `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${inHttp}"}}}
processors:
  batch: {timeout: 300ms, send_batch_size: 100000}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${down}
    retry_on_failure: {enabled: true, initial_interval: 20ms, max_interval: 100ms, max_elapsed_time: 10s}
  jaeger_storage_exporter: {trace_storage: mem}
extensions:
  jaeger_storage: {backends: {mem: {memory: {max_traces: 100000}}}}
  healthcheckv2: {use_v2: true, http: {endpoint: "127.0.0.1:${health}"}}
service:
  extensions: [jaeger_storage, healthcheckv2]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlphttp, jaeger_storage_exporter]}
  telemetry: {metrics: {level: none}}
`,
  );
  const skua = spawnSkua(['--config', cfg]);
  t.after(() => skua.kill());
  await skua.waitForLog(readyMessage);

  const acked = new Set<string>();
  let ackedAfterSignal = 0;
  let refusedOrCut = 0;
  let signalAt = 0;
  let exited = false;
  void skua.exited.then(() => (exited = true));

  const sender = async () => {
    while (!exited) {
      const ids = Array.from({ length: 20 }, () => randomBytes(8).toString('hex'));
      const startedBeforeSignal = signalAt === 0;
      try {
        const r = await fetch(`http://127.0.0.1:${inHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(ids) });
        await r.arrayBuffer();
        if (r.status === 200) {
          for (const id of ids) acked.add(id);
          if (startedBeforeSignal && signalAt !== 0) ackedAfterSignal++;
        } else refusedOrCut++;
      } catch {
        refusedOrCut++;
        if (signalAt !== 0) return; // the receiver is gone
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const senders = Array.from({ length: 8 }, () => sender());

  // Let a few batches go through, then stop the child while requests wait in its batch processor.
  await new Promise((r) => setTimeout(r, 1200));
  assert.ok(acked.size > 0, 'spans were acknowledged before the signal');
  signalAt = Date.now();
  skua.proc.kill('SIGTERM');
  const code = await skua.exited;
  await Promise.all(senders);

  assert.equal(code, 0, `exit code; stderr: ${skua.stderr.join('')}`);
  assert.ok(skua.lines.some((l) => l['msg'] === 'Shutdown complete.'));
  assert.ok(ackedAfterSignal >= 1, 'requests waiting in the batch at the signal were drained and acknowledged');

  const ext = downstream.getExtension('jaeger_storage');
  assert.ok(isStorageExtension(ext));
  const stored = await storedSpanIds(ext.getTraceStore('witness'));
  const lost = [...acked].filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged spans are missing downstream`);
  t.diagnostic(`acknowledged spans: ${acked.size}; requests drained after SIGTERM: ${ackedAfterSignal}; refused or cut: ${refusedOrCut}`);
});
