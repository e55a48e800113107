// End to end: every bad input of the foundation issue (item 4 and the query API's parameters) gets the status the
// OTLP specification / Jaeger API names, and the process keeps serving afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { eventually, getJson, sleep, startSkua, type Skua } from './e2e-skua.js';

// ---------------------------------------------------------------------------------------------------------------
// A minimal hand-written OTLP protobuf encoder/decoder (the test must not lean on the code it tests).

function varint(n: bigint | number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
function field(no: number, wire: number): number[] {
  return varint((no << 3) | wire);
}
function bytesField(no: number, data: Uint8Array | number[]): number[] {
  return [...field(no, 2), ...varint(data.length), ...data];
}
function stringField(no: number, s: string): number[] {
  return bytesField(no, [...Buffer.from(s, 'utf8')]);
}
function fixed64Field(no: number, v: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return [...field(no, 1), ...b];
}

interface TestSpan {
  traceId: string; // hex, any length (to build invalid ones)
  spanId: string;
  name: string;
}

/** ExportTraceServiceRequest { resource_spans { resource { service.name }, scope_spans { spans } } } */
function encodeRequest(service: string, spans: TestSpan[]): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const kv = [...stringField(1, 'service.name'), ...bytesField(2, stringField(1, service))];
  const resource = bytesField(1, bytesField(1, kv)); // ResourceSpans.resource = Resource { attributes: [kv] }
  const encodedSpans = spans.flatMap((s) =>
    bytesField(2, [
      ...bytesField(1, [...Buffer.from(s.traceId, 'hex')]),
      ...bytesField(2, [...Buffer.from(s.spanId, 'hex')]),
      ...stringField(5, s.name),
      ...field(6, 0),
      ...varint(2),
      ...fixed64Field(7, now - 1_000_000n),
      ...fixed64Field(8, now),
    ]),
  );
  const scopeSpans = bytesField(2, encodedSpans);
  return Buffer.from(bytesField(1, [...resource, ...scopeSpans]));
}

/** ExportTraceServiceResponse { partial_success (1) { rejected_spans (1), error_message (2) } } */
function decodeResponse(buf: Buffer): { rejectedSpans: number; errorMessage: string } {
  let rejectedSpans = 0;
  let errorMessage = '';
  const readVarint = (b: Buffer, pos: number): [bigint, number] => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[pos++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return [v, pos];
      shift += 7n;
    }
  };
  const walk = (b: Buffer, inner: boolean): void => {
    let pos = 0;
    while (pos < b.length) {
      const [key, p1] = readVarint(b, pos);
      const no = Number(key >> 3n);
      const wire = Number(key & 7n);
      if (wire === 0) {
        const [v, p2] = readVarint(b, p1);
        if (inner && no === 1) rejectedSpans = Number(v);
        pos = p2;
      } else if (wire === 2) {
        const [len, p2] = readVarint(b, p1);
        const sub = b.subarray(p2, p2 + Number(len));
        if (!inner && no === 1) walk(sub, true);
        if (inner && no === 2) errorMessage = sub.toString('utf8');
        pos = p2 + Number(len);
      } else if (wire === 1) pos = p1 + 8;
      else if (wire === 5) pos = p1 + 4;
      else throw new Error(`unexpected wire type ${wire}`);
    }
  };
  walk(buf, false);
  return { rejectedSpans, errorMessage };
}

/** The same request as OTLP/JSON. */
function jsonRequest(service: string, spans: TestSpan[]): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'bad-input-test' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              name: s.name,
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

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

async function post(
  skua: Skua,
  body: Uint8Array | string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(`${skua.otlpHttp}/v1/traces`, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

/** One raw unary call of TraceService/Export with an arbitrary payload. */
function grpcExport(target: string, payload: Buffer): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      payload,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
      },
    );
  });
}

async function storedSpanIds(skua: Skua, traceId: string): Promise<string[]> {
  const r = await getJson(`${skua.query}/api/v3/traces/${traceId}`);
  if (r.status !== 200) return [];
  return (r.body.result.resourceSpans as any[]).flatMap((rs) =>
    (rs.scopeSpans as any[]).flatMap((ss) => (ss.spans as any[]).map((s) => s.spanId as string)),
  );
}

/** After the bad inputs: a valid request is still accepted and stored, and health is still 200. */
async function assertStillServing(skua: Skua): Promise<void> {
  assert.ok(skua.alive(), `skua exited:\n${skua.output().slice(-3000)}`);
  const span = { traceId: hex(16), spanId: hex(8), name: 'still-serving' };
  const r = await post(skua, encodeRequest('after-bad-input', [span]), PROTO);
  assert.equal(r.status, 200);
  await eventually(async () => ((await storedSpanIds(skua, span.traceId)).includes(span.spanId) ? true : undefined));
  const g = await grpcExport(skua.otlpGrpc, encodeRequest('after-bad-input', [{ ...span, spanId: hex(8) }]));
  assert.equal(g.code, grpc.status.OK, g.details);
}

// ---------------------------------------------------------------------------------------------------------------

describe('bad input to a running Skua', () => {
  let skua: Skua;
  const LIMIT = 64 * 1024;

  before(async () => {
    skua = await startSkua({ http: { max_request_body_size: LIMIT }, grpc: { max_recv_msg_size_mib: 1 } });
  });
  after(async () => {
    if (skua) await skua.stop();
  });

  test('undecodable protobuf -> 400', async () => {
    const r = await post(skua, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTO);
    assert.equal(r.status, 400);
    const r2 = await post(skua, randomBytes(512), PROTO);
    assert.equal(r2.status, 400);
  });

  test('undecodable JSON -> 400', async () => {
    assert.equal((await post(skua, '{"resourceSpans": [', JSON_CT)).status, 400);
    assert.equal((await post(skua, '{"resourceSpans": "not a list"}', JSON_CT)).status, 400);
  });

  test('a method other than POST -> 405', async () => {
    const r = await post(skua, '', {}, 'GET');
    assert.equal(r.status, 405);
    const r2 = await post(skua, '{}', JSON_CT, 'PUT');
    assert.equal(r2.status, 405);
  });

  test('another content type -> 415', async () => {
    const r = await post(skua, 'hello', { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
  });

  test('a body over max_request_body_size -> 413, also when it only gets there by decompression', async () => {
    const big = Buffer.alloc(LIMIT + 1024, 0x41);
    assert.equal((await post(skua, big, PROTO)).status, 413);
    // A gzip bomb: 16 MiB of zeros, ~16 KiB compressed (under the limit), far over it once decompressed.
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    assert.ok(bomb.length < LIMIT, `bomb is ${bomb.length} bytes compressed`);
    const r = await post(skua, bomb, { ...PROTO, 'content-encoding': 'gzip' });
    assert.equal(r.status, 413);
  });

  test('a valid gzip body is accepted', async () => {
    const span = { traceId: hex(16), spanId: hex(8), name: 'gzipped' };
    const r = await post(skua, gzipSync(encodeRequest('gzip-client', [span])), { ...PROTO, 'content-encoding': 'gzip' });
    assert.equal(r.status, 200);
    await eventually(async () => ((await storedSpanIds(skua, span.traceId)).includes(span.spanId) ? true : undefined));
  });

  test('protobuf: a span with a 15-byte trace id -> 200, partial_success rejected_spans=1, the rest stored', async () => {
    const traceId = hex(16);
    const good = [
      { traceId, spanId: hex(8), name: 'good-1' },
      { traceId, spanId: hex(8), name: 'good-2' },
    ];
    const bad = { traceId: hex(15), spanId: hex(8), name: 'bad-trace-id' };
    const r = await post(skua, encodeRequest('partial-proto', [good[0]!, bad, good[1]!]), PROTO);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/x-protobuf/);
    const resp = decodeResponse(r.body);
    assert.equal(resp.rejectedSpans, 1);
    assert.ok(resp.errorMessage.length > 0, 'partial_success.error_message says why');
    const stored = await eventually(async () => {
      const ids = await storedSpanIds(skua, traceId);
      return ids.length >= 2 ? ids : undefined;
    });
    assert.deepEqual([...stored].sort(), good.map((s) => s.spanId).sort());
  });

  test('JSON: a span with a 15-byte trace id -> 200, partialSuccess rejectedSpans=1, the rest stored', async () => {
    const traceId = hex(16);
    const good = { traceId, spanId: hex(8), name: 'good' };
    const bad = { traceId: hex(15), spanId: hex(8), name: 'bad-trace-id' };
    const r = await post(skua, jsonRequest('partial-json', [bad, good]), JSON_CT);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const body = JSON.parse(r.body.toString('utf8'));
    assert.equal(Number(body.partialSuccess?.rejectedSpans), 1, r.body.toString('utf8'));
    assert.ok(String(body.partialSuccess?.errorMessage ?? '').length > 0);
    await eventually(async () => ((await storedSpanIds(skua, traceId)).includes(good.spanId) ? true : undefined));
  });

  test('gRPC: an undecodable message -> INVALID_ARGUMENT', async () => {
    const r = await grpcExport(skua.otlpGrpc, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `code ${r.code}: ${r.details}`);
  });

  test('gRPC: a message over max_recv_msg_size_mib -> RESOURCE_EXHAUSTED', async () => {
    const spans = Array.from({ length: 9000 }, (_, i) => ({ traceId: hex(16), spanId: hex(8), name: `big-${i}-${'x'.repeat(80)}` }));
    const payload = encodeRequest('too-big', spans);
    assert.ok(payload.length > 1024 * 1024, `payload is ${payload.length} bytes`);
    const r = await grpcExport(skua.otlpGrpc, payload);
    assert.equal(r.code, grpc.status.RESOURCE_EXHAUSTED, `code ${r.code}: ${r.details}`);
  });

  test('gRPC: a 15-byte trace id is a partial success, not an error', async () => {
    const traceId = hex(16);
    const good = { traceId, spanId: hex(8), name: 'good' };
    const r = await grpcExport(skua.otlpGrpc, encodeRequest('partial-grpc', [good, { ...good, traceId: hex(15) }]));
    assert.equal(r.code, grpc.status.OK, r.details);
    await eventually(async () => ((await storedSpanIds(skua, traceId)).includes(good.spanId) ? true : undefined));
  });

  test('HTTP/1.1 on the gRPC port -> one WARN line naming the OTLP/HTTP endpoint', async () => {
    await fetch(`http://${skua.otlpGrpc}/v1/traces`, {
      method: 'POST',
      headers: PROTO,
      body: encodeRequest('wrong-port', [{ traceId: hex(16), spanId: hex(8), name: 'x' }]),
      signal: AbortSignal.timeout(5000),
    }).then(
      (res) => res.arrayBuffer(),
      () => undefined, // the gRPC server may just close the connection
    );
    const re = new RegExp(`HTTP/1\\.1.*127\\.0\\.0\\.1:${skua.ports.http}`);
    const line = await skua.waitForLine(re, 5000);
    assert.ok(isWarn(line), `not a WARN line: ${line}`);
    assert.ok(line.includes(`127.0.0.1:${skua.ports.grpc}`), `names the gRPC endpoint: ${line}`);
    await sleep(300);
    assert.equal(linesMatching(skua, re), 1, 'one line per mistake, not one per chunk');
  });

  test('TLS on a plaintext port -> a WARN line naming the mistake and the endpoint', async () => {
    for (const port of [skua.ports.http, skua.ports.grpc]) {
      await new Promise<void>((resolve) => {
        const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        sock.setTimeout(3000, () => sock.destroy());
      });
      const re = new RegExp(`TLS.*127\\.0\\.0\\.1:${port}`);
      const line = await skua.waitForLine(re, 5000);
      assert.ok(isWarn(line), `not a WARN line: ${line}`);
      await sleep(200);
      assert.equal(linesMatching(skua, re), 1);
    }
  });

  test('bad query parameters -> 400 naming the parameter', async () => {
    const q = skua.query;
    const cases: Array<[string, string]> = [
      [`${q}/api/traces?service=x&limit=abc`, 'limit'],
      [`${q}/api/traces?service=x&start=yesterday`, 'start'],
      [`${q}/api/traces?service=x&end=tomorrow`, 'end'],
      [`${q}/api/traces?service=x&minDuration=fast`, 'minDuration'],
      [`${q}/api/traces?service=x&maxDuration=10parsecs`, 'maxDuration'],
      [`${q}/api/traces?service=x&lookback=forever`, 'lookback'],
      [`${q}/api/traces?service=x&tags=%7Bnot-json`, 'tags'],
      [`${q}/api/traces/not-a-trace-id`, 'trace'],
      [`${q}/api/dependencies?endTs=abc&lookback=1000`, 'endTs'],
      [`${q}/api/v3/traces?query.serviceName=x&query.startTimeMin=yesterday&query.startTimeMax=2025-01-01T00:00:00Z`, 'startTimeMin'],
      [`${q}/api/v3/traces?query.serviceName=x&query.startTimeMin=2025-01-01T00:00:00Z&query.startTimeMax=2025-01-02T00:00:00Z&query.durationMin=slow`, 'durationMin'],
      [`${q}/api/v3/traces/zz`, 'trace'],
    ];
    for (const [url, param] of cases) {
      const r = await getJson(url);
      assert.equal(r.status, 400, `${url} -> ${r.status} ${JSON.stringify(r.body)}`);
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      assert.ok(text.toLowerCase().includes(param.toLowerCase()), `${url}: the error should name "${param}": ${text}`);
    }
  });

  test('after all of that the process still serves', async () => {
    await assertStillServing(skua);
  });
});

describe('memory_limiter refusing for capacity', () => {
  let skua: Skua;

  before(async () => {
    // A limit far below what any Node process uses: every request is refused as "retry later".
    skua = await startSkua({
      processors: { memory_limiter: { check_interval: '100ms', limit_mib: 4, spike_limit_mib: 1 }, batch: {} },
    });
  });
  after(async () => {
    if (skua) await skua.stop();
  });

  test('OTLP/HTTP -> 503 with Retry-After; gRPC -> UNAVAILABLE; the process keeps running', async () => {
    const span = { traceId: hex(16), spanId: hex(8), name: 'refused' };
    const r = await eventually(async () => {
      const res = await post(skua, encodeRequest('refused', [span]), PROTO);
      return res.status === 503 ? res : undefined;
    }, 10_000, 'a 503 from the memory limiter');
    const retryAfter = r.headers.get('retry-after');
    assert.ok(retryAfter !== null && /^\d+$/.test(retryAfter), `Retry-After: ${retryAfter}`);
    const rj = await post(skua, jsonRequest('refused', [span]), JSON_CT);
    assert.equal(rj.status, 503);
    const g = await grpcExport(skua.otlpGrpc, encodeRequest('refused', [span]));
    assert.equal(g.code, grpc.status.UNAVAILABLE, `code ${g.code}: ${g.details}`);
    assert.ok(skua.alive());
    const health = await getJson(`${skua.query}/api/services`);
    assert.equal(health.status, 200);
  });
});

function isWarn(line: string): boolean {
  try {
    const j = JSON.parse(line);
    return j.level === 40 || String(j.level).toLowerCase() === 'warn';
  } catch {
    return /\bWARN\b/i.test(line);
  }
}

function linesMatching(skua: Skua, re: RegExp): number {
  return skua.output().split('\n').filter((l) => re.test(l)).length;
}
