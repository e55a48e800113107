import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CreateSettings, Host } from '../../component/component.js';
import { defaultContext, type TracesConsumer } from '../../component/consumer.js';
import { RetryableError, errorMessage, isPermanent } from '../../component/errors.js';
import type { Receiver } from '../../component/factory.js';
import type { SelfMetrics } from '../../telemetry/metrics.js';
import { parseEndpoint } from '../../confmap/schema.js';
import { decodeTraceRequestProto, type DecodedTraces } from '../../pdata/proto-view.js';
import { GrpcCode, encodeRpcStatusProto, encodeTraceResponseProto } from '../../pdata/proto-encode.js';
import { decodeTraceRequestJson, encodeRpcStatusJson, encodeTraceResponseJson } from '../../pdata/json.js';
import { Writer, WIRE_VARINT } from '../../pdata/wire.js';
import { tracesPath, type Config, type CorsConfig, type HttpConfig } from './config.js';

type Transport = 'grpc' | 'http';
type Encoding = 'proto' | 'json';

const TRACE_SERVICE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** How often the same protocol-mismatch warning may be repeated. */
const WARN_INTERVAL_MS = 10_000;
/** How long shutdown waits for in-flight requests before closing connections anyway. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * The `otlp` receiver: OTLP/gRPC (`TraceService/Export`) and OTLP/HTTP (`POST /v1/traces`,
 * protobuf or JSON, optionally gzip/deflate). Answers as the OTLP specification says and
 * acknowledges a request only after the next consumer accepted its spans.
 *
 * The gRPC port is served by our own net.Server that looks at the first bytes of each connection:
 * HTTP/2 goes to grpc-js (through its connection injector); HTTP/1.1 or TLS gets one WARN line
 * naming the mistake and the endpoint to use instead. The HTTP port recognises the same mistakes
 * from the HTTP parser's errors, so its hot path carries no sniffing.
 */
export class OtlpReceiver implements Receiver {
  private readonly id: string;
  private readonly log: Logger;
  private readonly metrics: SelfMetrics;
  private httpServer: http.Server | undefined;
  private grpcServer: grpc.Server | undefined;
  private grpcInjector: ReturnType<grpc.Server['createConnectionInjector']> | undefined;
  private grpcListener: net.Server | undefined;
  private readonly sniffing = new Set<net.Socket>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly warnedAt = new Map<string, number>();
  private stopping = false;
  private shutdownPromise: Promise<void> | undefined;
  private readonly tracesPath: string;

  constructor(
    settings: CreateSettings,
    private readonly cfg: Config,
    private readonly next: TracesConsumer,
  ) {
    this.id = settings.id.toString();
    this.log = settings.telemetry.logger;
    this.metrics = settings.telemetry.metrics;
    this.tracesPath = cfg.protocols.http ? tracesPath(cfg.protocols.http) : '/v1/traces';
  }

  /** The configured endpoints, for messages. */
  private get grpcEndpoint(): string {
    return this.cfg.protocols.grpc?.endpoint ?? '';
  }
  private get httpEndpoint(): string {
    return this.cfg.protocols.http?.endpoint ?? '';
  }

  async start(_host: Host): Promise<void> {
    try {
      if (this.cfg.protocols.http) await this.startHttp(this.cfg.protocols.http);
      if (this.cfg.protocols.grpc) await this.startGrpc(this.cfg.protocols.grpc.endpoint, this.cfg.protocols.grpc.max_recv_msg_size_mib);
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  async shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.stopping = true;
    const closing: Promise<void>[] = [];
    if (this.httpServer) {
      const srv = this.httpServer;
      closing.push(new Promise((resolve) => srv.close(() => resolve())));
      srv.closeIdleConnections();
    }
    if (this.grpcListener) {
      const l = this.grpcListener;
      closing.push(new Promise((resolve) => l.close(() => resolve())));
    }
    for (const s of this.sniffing) s.destroy();
    // Stop accepting, then let the requests already inside finish (their answers carry
    // `Connection: close` / GOAWAY) before tearing the transports down.
    await waitAll(this.inflight, SHUTDOWN_GRACE_MS);
    if (this.grpcServer) {
      const gs = this.grpcServer;
      this.grpcInjector?.drain(1000);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          gs.forceShutdown();
          resolve();
        }, 2000);
        gs.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
      this.grpcInjector?.destroy();
    }
    this.httpServer?.closeAllConnections();
    await Promise.all(closing);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  // -------------------------------------------------------------------------------------------
  // Shared data path

  /** Pushes decoded spans downstream; resolves with the consumer's error, if any. */
  private async push(d: DecodedTraces, transport: Transport): Promise<unknown> {
    const labels = { receiver: this.id, transport };
    if (d.rejectedSpans > 0) {
      this.metrics.receiverRefusedSpans.inc(labels, d.rejectedSpans);
      this.metrics.dropped('invalid', this.id, d.rejectedSpans);
    }
    const n = d.traces.spanCount;
    if (n === 0) return undefined;
    try {
      await this.next.consumeTraces(d.traces, defaultContext);
      this.metrics.receiverAcceptedSpans.inc(labels, n);
      return undefined;
    } catch (err) {
      this.metrics.receiverRefusedSpans.inc(labels, n);
      this.metrics.dropped('refused', this.id, n, err);
      this.log.debug({ err: errorMessage(err), spans: n, transport }, 'spans refused by the pipeline');
      return err ?? new Error('refused');
    }
  }

  private warnOnce(kind: string, msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.warnedAt.get(kind);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return;
    this.warnedAt.set(kind, now);
    this.log.warn(fields, msg);
  }

  // -------------------------------------------------------------------------------------------
  // OTLP/HTTP

  private async startHttp(h: HttpConfig): Promise<void> {
    const srv = http.createServer({ keepAlive: true, requestTimeout: 120_000 }, (req, res) => this.onHttpRequest(h, req, res));
    srv.keepAliveTimeout = 30_000;
    srv.on('clientError', (err: Error & { code?: string; rawPacket?: Buffer }, socket: net.Socket) => this.onHttpClientError(err, socket));
    this.httpServer = srv;
    await listen(srv, h.endpoint, 'http');
  }

  private onHttpClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: net.Socket): void {
    const raw = err.rawPacket;
    const remote = socket.remoteAddress;
    if (raw && raw.length > 0 && raw[0] === 0x16) {
      this.warnOnce(
        'http-tls',
        `TLS handshake on the plaintext OTLP/HTTP endpoint ${this.httpEndpoint}; send plain http:// to it (TLS is not configured on this receiver)`,
        { receiver: this.id, remote },
      );
      socket.destroy();
      return;
    }
    if (raw && raw.length > 0 && H2_PREFACE.subarray(0, Math.min(raw.length, 16)).equals(raw.subarray(0, Math.min(raw.length, 16)))) {
      this.warnHttp2OnHttpPort(remote);
      socket.destroy();
      return;
    }
    if (socket.writable && err.code !== 'ECONNRESET') {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
  }

  private warnHttp2OnHttpPort(remote: string | undefined): void {
    const where = this.cfg.protocols.grpc ? `OTLP/gRPC is served on ${this.grpcEndpoint}` : 'OTLP/gRPC is not enabled on this receiver (add protocols::grpc)';
    this.warnOnce('http-h2', `HTTP/2 (gRPC) request on the OTLP/HTTP endpoint ${this.httpEndpoint}; ${where}`, { receiver: this.id, remote });
  }

  private onHttpRequest(h: HttpConfig, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.stopping) res.setHeader('Connection', 'close');
    if (req.method === 'PRI') {
      // an HTTP/2 preface that the HTTP/1 parser accepted as a request line
      this.warnHttp2OnHttpPort(req.socket.remoteAddress);
      req.socket.destroy();
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const origin = req.headers.origin;
    const corsOrigin = origin !== undefined && corsAllows(h.cors, origin) ? origin : undefined;
    if (path !== this.tracesPath) return plain(res, 404, '404 page not found');
    if (req.method === 'OPTIONS' && h.cors.allowed_origins.length > 0) return this.preflight(h.cors, corsOrigin, req, res);
    if (corsOrigin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', corsOrigin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return plain(res, 405, '405 method not allowed, supported: [POST]');
    }
    const ct = mediaType(req.headers['content-type']);
    let enc: Encoding;
    if (ct === 'application/x-protobuf') enc = 'proto';
    else if (ct === 'application/json') enc = 'json';
    else return plain(res, 415, '415 unsupported media type, supported: [application/json, application/x-protobuf]');
    const ce = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (ce !== '' && ce !== 'identity' && ce !== 'gzip' && ce !== 'x-gzip' && ce !== 'deflate') {
      return this.httpStatus(res, enc, 400, GrpcCode.INVALID_ARGUMENT, `unsupported Content-Encoding "${ce}", supported: gzip, deflate`);
    }
    const limit = h.max_request_body_size;
    const p = readBody(req, limit).then(
      (body) => {
        if (body === undefined) {
          res.setHeader('Connection', 'close');
          this.httpStatus(res, enc, 413, GrpcCode.INVALID_ARGUMENT, `request body larger than max_request_body_size (${limit} bytes)`);
          return;
        }
        if (ce === 'gzip' || ce === 'x-gzip' || ce === 'deflate') {
          return new Promise<void>((resolve) => {
            const done = (err: Error | null, out: Buffer) => {
              if (err) {
                if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
                  res.setHeader('Connection', 'close');
                  this.httpStatus(res, enc, 413, GrpcCode.INVALID_ARGUMENT, `decompressed request body larger than max_request_body_size (${limit} bytes)`);
                } else this.httpStatus(res, enc, 400, GrpcCode.INVALID_ARGUMENT, `invalid ${ce} body: ${err.message}`);
                resolve();
                return;
              }
              resolve(this.handleHttpBody(res, enc, own(out)));
            };
            if (ce === 'deflate') zlib.inflate(body, { maxOutputLength: limit }, done);
            else zlib.gunzip(body, { maxOutputLength: limit }, done);
          });
        }
        return this.handleHttpBody(res, enc, body);
      },
      (err: unknown) => {
        // the client went away or the stream broke: nothing to answer
        this.log.debug({ err: errorMessage(err) }, 'OTLP/HTTP request body not received');
        if (!res.headersSent && !res.destroyed) this.httpStatus(res, enc, 400, GrpcCode.INVALID_ARGUMENT, 'request body could not be read');
      },
    );
    this.track(p);
  }

  private async handleHttpBody(res: http.ServerResponse, enc: Encoding, body: Uint8Array): Promise<void> {
    let d: DecodedTraces;
    try {
      d = enc === 'proto' ? decodeTraceRequestProto(body) : decodeTraceRequestJson(body);
    } catch (err) {
      this.httpStatus(res, enc, 400, GrpcCode.INVALID_ARGUMENT, `cannot decode the ${enc === 'proto' ? 'protobuf' : 'JSON'} ExportTraceServiceRequest: ${errorMessage(err)}`);
      return;
    }
    const err = await this.push(d, 'http');
    if (err === undefined) {
      const partial = d.rejectedSpans > 0 ? { rejectedSpans: d.rejectedSpans, errorMessage: d.errorMessage } : undefined;
      if (enc === 'proto') send(res, 200, 'application/x-protobuf', encodeTraceResponseProto(partial));
      else send(res, 200, 'application/json', encodeTraceResponseJson(partial));
      return;
    }
    if (isPermanent(err)) {
      this.httpStatus(res, enc, 400, GrpcCode.INVALID_ARGUMENT, errorMessage(err));
      return;
    }
    const after = err instanceof RetryableError && err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : 1;
    res.setHeader('Retry-After', String(after));
    this.httpStatus(res, enc, 503, GrpcCode.UNAVAILABLE, errorMessage(err));
  }

  /** An error answer: HTTP status + google.rpc.Status in the request's encoding. */
  private httpStatus(res: http.ServerResponse, enc: Encoding, status: number, code: number, message: string): void {
    if (res.headersSent || res.destroyed) return;
    if (enc === 'proto') send(res, status, 'application/x-protobuf', encodeRpcStatusProto(code, message));
    else send(res, status, 'application/json', encodeRpcStatusJson(code, message));
  }

  private preflight(cors: CorsConfig, origin: string | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.headers['access-control-request-method'];
    if (origin === undefined || method === undefined) {
      res.writeHead(204, { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' }).end();
      return;
    }
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const allowAny = cors.allowed_headers.includes('*');
    const allowed = new Set(['accept', 'content-type', 'x-requested-with', 'content-encoding', ...cors.allowed_headers.map((x) => x.toLowerCase())]);
    const ok = method.toUpperCase() === 'POST' && requested.every((x) => allowAny || allowed.has(x.toLowerCase()));
    const headers: Record<string, string> = { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' };
    if (ok) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Allow-Methods'] = 'POST';
      if (requested.length) headers['Access-Control-Allow-Headers'] = requested.join(', ');
      if (cors.max_age > 0) headers['Access-Control-Max-Age'] = String(cors.max_age);
    }
    res.writeHead(204, headers).end();
  }

  // -------------------------------------------------------------------------------------------
  // OTLP/gRPC

  private async startGrpc(endpoint: string, maxMib: number): Promise<void> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': Math.floor(maxMib * 1024 * 1024),
    });
    const def: grpc.ServiceDefinition = {
      Export: {
        path: TRACE_SERVICE_EXPORT,
        requestStream: false,
        responseStream: false,
        // The handler decodes, so that a bad message becomes INVALID_ARGUMENT with a reason.
        requestSerialize: (b: Uint8Array) => Buffer.from(b),
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        responseDeserialize: (b: Buffer) => b,
      },
    };
    server.addService(def, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, cb: grpc.sendUnaryData<Uint8Array>) => this.onGrpcExport(call, cb),
    });
    this.grpcServer = server;
    this.grpcInjector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const listener = net.createServer({ noDelay: true }, (socket) => this.sniffGrpcConnection(socket));
    this.grpcListener = listener;
    await listen(listener, endpoint, 'grpc');
  }

  private onGrpcExport(call: grpc.ServerUnaryCall<Buffer, Uint8Array>, cb: grpc.sendUnaryData<Uint8Array>): void {
    let d: DecodedTraces;
    try {
      d = decodeTraceRequestProto(own(call.request));
    } catch (err) {
      cb({ code: grpc.status.INVALID_ARGUMENT, details: `cannot decode the ExportTraceServiceRequest: ${errorMessage(err)}` });
      return;
    }
    this.track(
      this.push(d, 'grpc').then((err) => {
        if (err === undefined) {
          cb(null, encodeTraceResponseProto(d.rejectedSpans > 0 ? { rejectedSpans: d.rejectedSpans, errorMessage: d.errorMessage } : undefined));
        } else if (isPermanent(err)) {
          cb({ code: grpc.status.INVALID_ARGUMENT, details: errorMessage(err) });
        } else {
          const retryMs = err instanceof RetryableError && err.retryAfterMs !== undefined ? err.retryAfterMs : 1000;
          const md = new grpc.Metadata();
          md.set('grpc-status-details-bin', Buffer.from(statusWithRetryInfo(GrpcCode.UNAVAILABLE, errorMessage(err), retryMs)));
          cb({ code: grpc.status.UNAVAILABLE, details: errorMessage(err), metadata: md });
        }
      }),
    );
  }

  /** Routes a new connection on the gRPC port by its first bytes. */
  private sniffGrpcConnection(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.sniffing.add(socket);
    let head: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    const onError = () => {
      this.sniffing.delete(socket);
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const kind = classify(head);
      if (kind === 'more') return;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      this.sniffing.delete(socket);
      socket.pause();
      const remote = socket.remoteAddress;
      if (kind === 'h2') {
        socket.unshift(head);
        this.grpcInjector!.injectConnection(socket);
        return;
      }
      if (kind === 'tls') {
        this.warnOnce(
          'grpc-tls',
          `TLS handshake on the plaintext OTLP gRPC endpoint ${this.grpcEndpoint}; configure the client for an insecure (plaintext) connection, e.g. OTEL_EXPORTER_OTLP_INSECURE=true or an http:// endpoint`,
          { receiver: this.id, remote },
        );
        socket.destroy();
        return;
      }
      const where = this.cfg.protocols.http ? `OTLP/HTTP is served on ${this.httpEndpoint}` : 'OTLP/HTTP is not enabled on this receiver (add protocols::http)';
      const msg = `HTTP/1.1 request on the OTLP gRPC endpoint ${this.grpcEndpoint}; ${where}`;
      this.warnOnce('grpc-http1', msg, { receiver: this.id, remote });
      socket.on('error', () => socket.destroy());
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(msg) + 1}\r\n\r\n${msg}\n`);
    };
    const onClose = () => this.sniffing.delete(socket);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function classify(head: Buffer): 'more' | 'h2' | 'tls' | 'http1' {
  if (head.length === 0) return 'more';
  if (head[0] === 0x16) return 'tls';
  const n = Math.min(head.length, H2_PREFACE.length);
  if (head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? 'h2' : 'more';
  return 'http1';
}

function listen(srv: net.Server, endpoint: string, what: string): Promise<void> {
  const ep = parseEndpoint(endpoint);
  if (!ep) return Promise.reject(new Error(`otlp receiver: invalid ${what} endpoint "${endpoint}"`));
  const host = ep.host === '' ? undefined : ep.host === 'localhost' ? '127.0.0.1' : ep.host;
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`otlp receiver: cannot listen on ${endpoint} (${what}): ${err.message}`));
    srv.once('error', onError);
    srv.listen({ port: ep.port, host }, () => {
      srv.off('error', onError);
      resolve();
    });
  });
}

function mediaType(ct: string | undefined): string {
  if (!ct) return '';
  const i = ct.indexOf(';');
  return (i < 0 ? ct : ct.slice(0, i)).trim().toLowerCase();
}

function corsAllows(cors: CorsConfig, origin: string): boolean {
  for (const pattern of cors.allowed_origins) {
    if (pattern === '*' || pattern === origin) return true;
    if (pattern.includes('*')) {
      const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      if (re.test(origin)) return true;
    }
  }
  return false;
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', `${text}\n`);
}

function send(res: http.ServerResponse, status: number, contentType: string, body: Uint8Array | string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength });
  res.end(body);
}

/**
 * Reads the whole body, at most `limit` bytes. Resolves undefined when it is larger (the rest is
 * not read). The buffer is owned by the caller (never a slice of a shared pool).
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  const cl = req.headers['content-length'];
  const declared = cl !== undefined ? Number(cl) : -1;
  if (declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let buf: Buffer<ArrayBufferLike> | undefined = declared >= 0 ? Buffer.allocUnsafeSlow(declared) : undefined;
    const chunks: Buffer[] = [];
    let len = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      len += chunk.length;
      if (len > limit || (buf !== undefined && len > buf.length)) {
        done = true;
        buf = undefined;
        chunks.length = 0;
        req.pause();
        resolve(undefined);
        return;
      }
      if (buf !== undefined) chunk.copy(buf, len - chunk.length);
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (buf !== undefined) resolve(len === buf.length ? buf : buf.subarray(0, len));
      else resolve(chunks.length === 1 ? own(chunks[0]!) : own(Buffer.concat(chunks, len)));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
    req.on('aborted', () => {
      if (done) return;
      done = true;
      reject(new Error('request aborted'));
    });
  });
}

/** A buffer the store may keep: copied when it is a small view into a larger (pooled) allocation. */
function own(b: Uint8Array): Uint8Array {
  if (b.buffer.byteLength > b.byteLength + 64) return new Uint8Array(b);
  return b;
}

/** google.rpc.Status{code, message, details: [Any(google.rpc.RetryInfo{retry_delay})]} */
function statusWithRetryInfo(code: number, message: string, retryMs: number): Uint8Array {
  const w = new Writer(128 + message.length * 3);
  w.tag(1, WIRE_VARINT).varint32(code);
  w.string(2, message);
  const any = w.fork(3);
  w.string(1, 'type.googleapis.com/google.rpc.RetryInfo');
  const val = w.fork(2);
  const delay = w.fork(1); // RetryInfo.retry_delay (google.protobuf.Duration)
  const secs = Math.floor(retryMs / 1000);
  const nanos = Math.round((retryMs % 1000) * 1e6);
  if (secs) w.tag(1, WIRE_VARINT).varint32(secs);
  if (nanos) w.tag(2, WIRE_VARINT).varint32(nanos);
  w.join(delay);
  w.join(val);
  w.join(any);
  return w.finish();
}

async function waitAll(set: Set<Promise<void>>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (set.size > 0 && Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...set]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
  }
}
