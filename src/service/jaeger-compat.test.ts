/**
 * Jaeger v2 compatibility: Jaeger's all-in-one configuration (testdata/jaeger-all-in-one.yaml: the
 * file from jaegertracing/jaeger with only the components Skua lacks removed) loads unchanged and
 * runs. Only the listen addresses are moved to free ports with --set, as the file binds Jaeger's
 * default ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { freePorts } from '../testutil/ports.js';
import { encodeTraceRequestProto } from '../pdata/proto-encode.js';
import * as grpc from '@grpc/grpc-js';
import { healthServiceDefinition } from '../extensions/healthcheck/healthcheck.js';
import { captureLogger, makeTraces } from './testing.js';
import { startService } from './service.js';

const jaegerAllInOne = fileURLToPath(new URL('./testdata/jaeger-all-in-one.yaml', import.meta.url));

test("Jaeger v2's all-in-one config runs: OTLP in, query API out, healthcheckv2 (HTTP and gRPC), metrics", async () => {
  const text = readFileSync(jaegerAllInOne, 'utf8');
  assert.match(text, /healthcheckv2:\n {4}use_v2: true\n {4}http:\n {6}endpoint: "\$\{env:JAEGER_LISTEN_HOST:-localhost\}:13133"\n {4}grpc:\n/);
  const [grpcIn, httpIn, query, health, healthGrpc, metrics] = await freePorts(6);
  const svc = await startService({
    logger: captureLogger().logger,
    configs: [jaegerAllInOne],
    env: { JAEGER_LISTEN_HOST: '127.0.0.1' },
    sets: [
      `receivers::otlp::protocols::grpc::endpoint=127.0.0.1:${grpcIn}`,
      `receivers::otlp::protocols::http::endpoint=127.0.0.1:${httpIn}`,
      `extensions::jaeger_query::http::endpoint=127.0.0.1:${query}`,
      `extensions::healthcheckv2::http::endpoint=127.0.0.1:${health}`,
      `extensions::healthcheckv2::grpc::endpoint=127.0.0.1:${healthGrpc}`,
      `service::telemetry::metrics::address=127.0.0.1:${metrics}`,
    ],
  });
  try {
    const st = await fetch(`http://127.0.0.1:${health}/status`);
    assert.equal(st.status, 200);
    assert.equal(((await st.json()) as { status: string }).status, 'StatusOK');

    const Client = grpc.makeGenericClientConstructor(healthServiceDefinition, 'Health');
    const client = new Client(`127.0.0.1:${healthGrpc}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: number }) => void): void;
    };
    const serving = await new Promise<number>((resolve, reject) => client.Check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res!.status))));
    client.close();
    assert.equal(serving, 1, 'grpc.health.v1 SERVING');

    const td = makeTraces(3, { service: 'jaeger-compat' });
    const traceId = td.resourceSpans()[0]!.scopeSpans[0]!.spans[0]!.traceId;
    const r = await fetch(`http://127.0.0.1:${httpIn}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequestProto(td) });
    assert.equal(r.status, 200);
    const got = await fetch(`http://127.0.0.1:${query}/api/traces/${traceId}`);
    assert.equal(got.status, 200);
    const json = (await got.json()) as { data: { traceID: string; spans: unknown[] }[] };
    assert.equal(json.data[0]!.traceID, traceId);
    assert.equal(json.data[0]!.spans.length, 3);

    const m = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    assert.match(m, /otelcol_receiver_accepted_spans\{receiver="otlp",transport="http"\} 3/);
    assert.match(m, /otelcol_exporter_sent_spans\{exporter="jaeger_storage_exporter"\} 3/);
  } finally {
    await svc.shutdown();
  }
});
