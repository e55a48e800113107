import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ComponentId } from '../../component/id.js';
import type { CreateSettings } from '../../component/component.js';
import { PermanentError, RetryableError } from '../../component/errors.js';
import { SelfMetrics } from '../../telemetry/metrics.js';
import { freePorts } from '../../testutil/ports.js';
import { SinkConsumer } from '../../testutil/sink.js';
import { factory } from './factory.js';
import { configSchema, createDefaultConfig, unmarshal, validate, type Config } from './config.js';
import type { OtlpReceiver } from './receiver.js';
import {
  decodeRpcStatusProto,
  decodeTraceResponseJson,
  decodeTraceResponseProto,
  encodeTraceRequestJson,
  encodeTraceRequestProto,
} from '../../pdata/otlp.js';
import { generateResourceSpans } from '../../pdata/testdata/generate.js';
import type { ResourceSpans } from '../../pdata/model.js';

// ---------------------------------------------------------------------------------------------
// helpers

class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  }
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  }
}

interface Running {
  rcv: OtlpReceiver;
  sink: SinkConsumer;
  metrics: SelfMetrics;
  logs: LogLines;
  grpcPort: number;
  httpPort: number;
  url: string;
  stop(): Promise<void>;
}

async function startReceiver(protocols: Record<string, unknown> = { grpc: null, http: null }, name = ''): Promise<Running> {
  const [grpcPort, httpPort] = await freePorts(2);
  const p: Record<string, unknown> = {};
  if ('grpc' in protocols) p.grpc = { ...(protocols.grpc as object | null), endpoint: `127.0.0.1:${grpcPort}` };
  if ('http' in protocols) p.http = { ...(protocols.http as object | null), endpoint: `127.0.0.1:${httpPort}` };
  const cfg = configSchema.parse(unmarshal({ protocols: p }, createDefaultConfig()));
  const logs = new LogLines();
  const metrics = new SelfMetrics();
  const settings: CreateSettings = {
    id: ComponentId.of('otlp', name),
    kind: 'receiver',
    telemetry: { logger: pino({ level: 'debug' }, logs), metrics },
    buildInfo: { command: 'skua', description: 'test', version: '0.0.0' },
  };
  const sink = new SinkConsumer();
  const rcv = (await factory.createTraces(settings, cfg, sink)) as OtlpReceiver;
  await rcv.start({ getExtension: () => undefined, getExtensions: () => new Map(), reportFatalError: () => {} });
  return { rcv, sink, metrics, logs, grpcPort: grpcPort!, httpPort: httpPort!, url: `http://127.0.0.1:${httpPort}/v1/traces`, stop: () => rcv.shutdown() };
}

const sample: ResourceSpans[] = generateResourceSpans({ spans: 20, perTrace: 5, services: 2, seed: 11 });
const sampleProto = encodeTraceRequestProto(sample);
const sampleJson = encodeTraceRequestJson(sample);

/** The sample with the first span's trace id cut to 15 bytes (protobuf) */
function withBadSpan(): { proto: Uint8Array; json: string } {
  const json = JSON.parse(sampleJson) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] };
  json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId = 'abcd';
  const rs = JSON.parse(JSON.stringify(json));
  const text = JSON.stringify(rs);
  // protobuf: encode the same document through our JSON decoder would drop it, so patch bytes instead
  const proto = Buffer.from(sampleProto);
  const tid = Buffer.from(sample[0]!.scopeSpans[0]!.spans[0]!.traceId, 'hex');
  const at = proto.indexOf(Buffer.concat([Buffer.from([0x0a, 0x10]), tid]));
  assert.ok(at > 0);
  proto[at + 1] = 0x10; // keep the length; change the tag to an unknown field (15 → trace id missing)
  proto[at] = 0x1a; // field 3 (trace_state, string) instead of field 1: trace id now absent
  return { proto, json: text };
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string }): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'POST', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const PB = { 'Content-Type': 'application/x-protobuf' };
const JS = { 'Content-Type': 'application/json' };

function grpcClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function grpcExport(c: grpc.Client, body: Uint8Array): Promise<{ err: grpc.ServiceError | null; res?: Buffer }> {
  return new Promise((resolve) => {
    c.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      body,
      (err, res) => resolve({ err, res }),
    );
  });
}

async function counter(m: SelfMetrics, name: 'receiverAcceptedSpans' | 'receiverRefusedSpans', transport: string): Promise<number> {
  const v = await m[name].get();
  return v.values.find((x) => x.labels.transport === transport)?.value ?? 0;
}

// ---------------------------------------------------------------------------------------------

describe('otlp receiver config', () => {
  const parse = (raw: unknown) => configSchema.safeParse(unmarshal(raw, createDefaultConfig()));

  test('only the protocols written are enabled; an empty value means defaults', () => {
    const g = parse({ protocols: { grpc: null } });
    assert.ok(g.success);
    assert.deepEqual(g.data, { protocols: { grpc: { endpoint: 'localhost:4317', max_recv_msg_size_mib: 4 } } });
    const h = parse({ protocols: { http: { endpoint: '0.0.0.0:5318', cors: { allowed_origins: ['https://*.example.com'] } } } });
    assert.ok(h.success);
    assert.equal(h.data.protocols.grpc, undefined);
    assert.deepEqual(h.data.protocols.http, {
      endpoint: '0.0.0.0:5318',
      traces_url_path: '/v1/traces',
      max_request_body_size: 20 * 1024 * 1024,
      cors: { allowed_origins: ['https://*.example.com'], allowed_headers: [], max_age: 0 },
    });
  });

  test('no protocol is an error; unknown keys and bad values are rejected', () => {
    const none = parse({});
    assert.ok(none.success);
    assert.match(validate(none.data)[0]!, /at least one protocol/);
    assert.ok(!parse({ protocols: { thrift: null } }).success);
    assert.ok(!parse({ protocols: { grpc: { endpoint: 'nope' } } }).success);
    assert.ok(!parse({ protocols: { http: { max_request_body_size: -1 } } }).success);
    assert.ok(!parse({ protocols: { http: { tls: {} } } }).success);
    const both = parse({ protocols: { grpc: { endpoint: ':1' }, http: { endpoint: ':1' } } });
    assert.ok(both.success);
    assert.match(validate(both.data as Config)[0]!, /different ports/);
  });

  test('lifecycle: shutdown without start, twice', async () => {
    const r = await factory.createTraces(
      { id: ComponentId.of('otlp'), kind: 'receiver', telemetry: { logger: pino({ level: 'silent' }), metrics: new SelfMetrics() }, buildInfo: { command: '', description: '', version: '' } },
      createDefaultConfig(),
      new SinkConsumer(),
    );
    await r.shutdown();
    await r.shutdown();
  });

  test('a port in use fails start with a clear error', async () => {
    const a = await startReceiver({ http: null });
    try {
      const cfg = configSchema.parse(unmarshal({ protocols: { http: { endpoint: `127.0.0.1:${a.httpPort}` } } }, createDefaultConfig()));
      const r = await factory.createTraces(
        { id: ComponentId.of('otlp', 'b'), kind: 'receiver', telemetry: { logger: pino({ level: 'silent' }), metrics: new SelfMetrics() }, buildInfo: { command: '', description: '', version: '' } },
        cfg,
        new SinkConsumer(),
      );
      await assert.rejects(r.start({ getExtension: () => undefined, getExtensions: () => new Map(), reportFatalError: () => {} }), /cannot listen on 127\.0\.0\.1:\d+ \(http\)/);
    } finally {
      await a.stop();
    }
  });
});

describe('otlp receiver: OTLP/HTTP', () => {
  let r: Running;
  before(async () => {
    r = await startReceiver({ grpc: null, http: { max_request_body_size: 64 * 1024, cors: { allowed_origins: ['https://*.example.com'], allowed_headers: ['x-custom'], max_age: 600 } } });
  });
  after(async () => r.stop());

  test('protobuf: 200 with an empty ExportTraceServiceResponse; spans reach the consumer', async () => {
    r.sink.reset();
    const res = await request(r.url, { headers: PB, body: sampleProto });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    assert.deepEqual(decodeTraceResponseProto(res.body), { rejectedSpans: 0n, errorMessage: '' });
    assert.equal(r.sink.spanCount, 20);
    const got = r.sink.received[0]!.td.resourceSpans();
    assert.equal(got[0]!.scopeSpans[0]!.spans[0]!.spanId, sample[0]!.scopeSpans[0]!.spans[0]!.spanId);
  });

  test('JSON: 200 with {} in JSON', async () => {
    r.sink.reset();
    const res = await request(r.url, { headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: sampleJson });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(res.body.toString()), {});
    assert.equal(r.sink.spanCount, 20);
  });

  test('gzip bodies are accepted', async () => {
    r.sink.reset();
    const res = await request(r.url, { headers: { ...PB, 'Content-Encoding': 'gzip' }, body: gzipSync(sampleProto) });
    assert.equal(res.status, 200);
    const res2 = await request(r.url, { headers: { ...JS, 'Content-Encoding': 'gzip' }, body: gzipSync(sampleJson) });
    assert.equal(res2.status, 200);
    assert.equal(r.sink.spanCount, 40);
  });

  test('partial success: invalid spans rejected and reported, the rest kept', async () => {
    r.sink.reset();
    const bad = withBadSpan();
    const res = await request(r.url, { headers: PB, body: bad.proto });
    assert.equal(res.status, 200);
    const ps = decodeTraceResponseProto(res.body);
    assert.equal(ps.rejectedSpans, 1n);
    assert.match(ps.errorMessage, /trace id/);
    const resJ = await request(r.url, { headers: JS, body: bad.json });
    assert.equal(resJ.status, 200);
    const psJ = decodeTraceResponseJson(resJ.body);
    assert.equal(psJ.rejectedSpans, 1n);
    assert.equal(r.sink.spanCount, 38);
    const m = await r.metrics.droppedSpans.get();
    assert.equal(m.values.find((v) => v.labels.reason === 'invalid')?.value, 2);
  });

  test('400 for undecodable bodies, with google.rpc.Status in the request encoding', async () => {
    const res = await request(r.url, { headers: PB, body: Buffer.from([0x0a, 0xff, 0x01]) });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    const st = decodeRpcStatusProto(res.body);
    assert.equal(st.code, 3);
    assert.match(st.message, /cannot decode/);
    const resJ = await request(r.url, { headers: JS, body: '{"resourceSpans": 5' });
    assert.equal(resJ.status, 400);
    assert.equal(resJ.headers['content-type'], 'application/json');
    assert.equal((JSON.parse(resJ.body.toString()) as { code: number }).code, 3);
    const badGzip = await request(r.url, { headers: { ...PB, 'Content-Encoding': 'gzip' }, body: sampleProto });
    assert.equal(badGzip.status, 400);
    const unknownEnc = await request(r.url, { headers: { ...PB, 'Content-Encoding': 'br' }, body: sampleProto });
    assert.equal(unknownEnc.status, 400);
  });

  test('404 other paths, 405 other methods, 415 other content types', async () => {
    const p404 = await request(`http://127.0.0.1:${r.httpPort}/v1/metrics`, { headers: PB, body: sampleProto });
    assert.equal(p404.status, 404);
    const p405 = await request(r.url, { method: 'GET' });
    assert.equal(p405.status, 405);
    assert.equal(p405.headers.allow, 'POST');
    const put = await request(r.url, { method: 'PUT', headers: PB, body: sampleProto });
    assert.equal(put.status, 405);
    const p415 = await request(r.url, { headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
    assert.equal(p415.status, 415);
    const none = await request(r.url, { body: sampleProto });
    assert.equal(none.status, 415);
  });

  test('413 over max_request_body_size, also for gzip bombs', async () => {
    const big = Buffer.alloc(65 * 1024, 1);
    const res = await request(r.url, { headers: PB, body: big });
    assert.equal(res.status, 413);
    // chunked, without Content-Length
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(r.url, { method: 'POST', headers: PB, agent: false }, (res2) => {
        res2.resume();
        resolve(res2.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 70; i++) req.write(Buffer.alloc(1024));
      req.end();
    });
    assert.equal(chunked, 413);
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    assert.ok(bomb.length < 64 * 1024);
    const resBomb = await request(r.url, { headers: { ...PB, 'Content-Encoding': 'gzip' }, body: bomb });
    assert.equal(resBomb.status, 413);
    assert.equal(decodeRpcStatusProto(resBomb.body).code, 3);
  });

  test('503 + Retry-After on a retryable refusal, 400 on a permanent one', async () => {
    r.sink.failWith = new RetryableError('queue full', { retryAfterMs: 2500 });
    const before = await counter(r.metrics, 'receiverRefusedSpans', 'http');
    const res = await request(r.url, { headers: PB, body: sampleProto });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '3');
    assert.equal(decodeRpcStatusProto(res.body).code, 14);
    r.sink.failWith = new Error('untyped');
    const res2 = await request(r.url, { headers: JS, body: sampleJson });
    assert.equal(res2.status, 503);
    assert.ok(res2.headers['retry-after']);
    r.sink.failWith = new PermanentError('bad data');
    const res3 = await request(r.url, { headers: PB, body: sampleProto });
    assert.equal(res3.status, 400);
    assert.deepEqual(decodeRpcStatusProto(res3.body), { code: 3, message: 'bad data' });
    r.sink.failWith = undefined;
    assert.equal((await counter(r.metrics, 'receiverRefusedSpans', 'http')) - before, 60);
  });

  test('acknowledges only after the consumer accepted', async () => {
    r.sink.hold();
    let done = false;
    const p = request(r.url, { headers: PB, body: sampleProto }).then((x) => {
      done = true;
      return x;
    });
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(done, false, 'no answer while the consumer has not resolved');
    r.sink.release();
    assert.equal((await p).status, 200);
  });

  test('CORS: preflight and allowed origins', async () => {
    const pre = await request(r.url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, x-custom' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(pre.headers['access-control-max-age'], '600');
    const denied = await request(r.url, { method: 'OPTIONS', headers: { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    const post = await request(r.url, { headers: { ...PB, Origin: 'https://app.example.com' }, body: sampleProto });
    assert.equal(post.headers['access-control-allow-origin'], 'https://app.example.com');
  });

  test('accepted spans counted with receiver and transport labels', async () => {
    const v = await r.metrics.receiverAcceptedSpans.get();
    const http1 = v.values.find((x) => x.labels.transport === 'http');
    assert.ok(http1 && http1.value > 0);
    assert.equal(http1.labels.receiver, 'otlp');
  });
});

describe('otlp receiver: OTLP/gRPC', () => {
  let r: Running;
  let client: grpc.Client;
  before(async () => {
    r = await startReceiver({ grpc: { max_recv_msg_size_mib: 1 }, http: null }, 'in');
    client = grpcClient(r.grpcPort);
  });
  after(async () => {
    client.close();
    await r.stop();
  });

  test('Export: OK with an empty response; spans reach the consumer', async () => {
    r.sink.reset();
    const { err, res } = await grpcExport(client, sampleProto);
    assert.equal(err, null);
    assert.deepEqual(decodeTraceResponseProto(res!), { rejectedSpans: 0n, errorMessage: '' });
    assert.equal(r.sink.spanCount, 20);
    assert.equal(await counter(r.metrics, 'receiverAcceptedSpans', 'grpc'), 20);
    const v = await r.metrics.receiverAcceptedSpans.get();
    assert.equal(v.values[0]!.labels.receiver, 'otlp/in');
  });

  test('partial success', async () => {
    const { err, res } = await grpcExport(client, withBadSpan().proto);
    assert.equal(err, null);
    assert.equal(decodeTraceResponseProto(res!).rejectedSpans, 1n);
  });

  test('INVALID_ARGUMENT for undecodable messages and permanent errors; UNAVAILABLE for retryable', async () => {
    const bad = await grpcExport(client, Buffer.from([0x0a, 0xff, 0x01]));
    assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
    r.sink.failWith = new PermanentError('nope');
    const perm = await grpcExport(client, sampleProto);
    assert.equal(perm.err?.code, grpc.status.INVALID_ARGUMENT);
    r.sink.failWith = new RetryableError('busy', { retryAfterMs: 1500 });
    const retry = await grpcExport(client, sampleProto);
    assert.equal(retry.err?.code, grpc.status.UNAVAILABLE);
    assert.ok(retry.err?.metadata.get('grpc-status-details-bin').length);
    r.sink.failWith = undefined;
  });

  test('messages over max_recv_msg_size_mib are refused', async () => {
    const big = encodeTraceRequestProto(generateResourceSpans({ spans: 3000, attrs: 10, seed: 2 }));
    assert.ok(big.length > 1024 * 1024);
    const res = await grpcExport(client, big);
    assert.equal(res.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  });
});

describe('otlp receiver: protocol mismatch warnings', () => {
  let r: Running;
  before(async () => {
    r = await startReceiver();
  });
  after(async () => r.stop());

  test('HTTP/1.1 on the gRPC port: one WARN naming the HTTP endpoint', async () => {
    const res = await request(`http://127.0.0.1:${r.grpcPort}/v1/traces`, { headers: PB, body: sampleProto });
    assert.equal(res.status, 400);
    const want = `HTTP/1.1 request on the OTLP gRPC endpoint 127.0.0.1:${r.grpcPort}; OTLP/HTTP is served on 127.0.0.1:${r.httpPort}`;
    assert.match(res.body.toString(), new RegExp(want.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    assert.deepEqual(r.logs.warnings().filter((w) => w.startsWith('HTTP/1.1')), [want]);
    // repeated mistakes do not flood the log
    await request(`http://127.0.0.1:${r.grpcPort}/v1/traces`, { headers: PB, body: sampleProto });
    assert.equal(r.logs.warnings().filter((w) => w.startsWith('HTTP/1.1')).length, 1);
  });

  test('TLS on the plaintext gRPC and HTTP ports: one WARN each', async () => {
    for (const port of [r.grpcPort, r.httpPort]) {
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.on('secureConnect', () => s.destroy());
      });
    }
    await new Promise((res) => setTimeout(res, 50));
    const w = r.logs.warnings();
    assert.ok(w.includes(`TLS handshake on the plaintext OTLP gRPC endpoint 127.0.0.1:${r.grpcPort}; configure the client for an insecure (plaintext) connection, e.g. OTEL_EXPORTER_OTLP_INSECURE=true or an http:// endpoint`), w.join('\n'));
    assert.ok(w.some((x) => x.startsWith(`TLS handshake on the plaintext OTLP/HTTP endpoint 127.0.0.1:${r.httpPort}`)), w.join('\n'));
  });

  test('gRPC on the HTTP port: one WARN naming the gRPC endpoint', async () => {
    const c = grpcClient(r.httpPort);
    const res = await grpcExport(c, sampleProto);
    c.close();
    assert.ok(res.err);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(
      r.logs.warnings().includes(`HTTP/2 (gRPC) request on the OTLP/HTTP endpoint 127.0.0.1:${r.httpPort}; OTLP/gRPC is served on 127.0.0.1:${r.grpcPort}`),
      r.logs.warnings().join('\n'),
    );
  });

  test('the gRPC port still serves gRPC after the mistakes', async () => {
    const c = grpcClient(r.grpcPort);
    const res = await grpcExport(c, sampleProto);
    c.close();
    assert.equal(res.err, null);
  });
});

describe('otlp receiver: OpenTelemetry SDK exporters', () => {
  test('proto, JSON and gRPC exporters deliver to the receiver', async () => {
    const r = await startReceiver();
    try {
      const exporters: [string, SpanExporter][] = [
        ['proto', new ProtoExporter({ url: r.url })],
        ['json', new JsonExporter({ url: r.url })],
        ['grpc', new GrpcExporter({ url: `http://127.0.0.1:${r.grpcPort}` })],
      ];
      for (const [name, exporter] of exporters) {
        r.sink.reset();
        const provider = new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': `svc-${name}` }),
          spanProcessors: [new BatchSpanProcessor(exporter)],
        });
        const tracer = provider.getTracer('t');
        for (let i = 0; i < 5; i++) tracer.startSpan(`op-${i}`, { attributes: { i } }).end();
        await provider.forceFlush();
        await provider.shutdown();
        assert.equal(r.sink.spanCount, 5, `${name} exporter`);
        const rs = r.sink.received[0]!.td.resourceSpans()[0]!;
        assert.ok(rs.resource.attributes.some((a) => a.key === 'service.name' && 'stringValue' in a.value && a.value.stringValue === `svc-${name}`));
      }
    } finally {
      await r.stop();
    }
  });
});

describe('otlp receiver: shutdown', () => {
  test('waits for in-flight requests, then stops accepting', async () => {
    const r = await startReceiver({ http: null, grpc: null });
    r.sink.hold();
    const pending = request(r.url, { headers: PB, body: sampleProto });
    const c = grpcClient(r.grpcPort);
    const pendingGrpc = grpcExport(c, sampleProto);
    await new Promise((res) => setTimeout(res, 150));
    let stopped = false;
    const stopping = r.stop().then(() => {
      stopped = true;
    });
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(stopped, false, 'shutdown waits for the in-flight requests');
    r.sink.release();
    assert.equal((await pending).status, 200);
    assert.equal((await pendingGrpc).err, null);
    await stopping;
    c.close();
    await assert.rejects(request(r.url, { headers: PB, body: sampleProto }));
    const s = net.connect(r.grpcPort, '127.0.0.1');
    await new Promise<void>((resolve) => {
      s.on('error', () => resolve());
      s.on('connect', () => {
        s.destroy();
        assert.fail('gRPC port still accepting');
      });
    });
  });
});
