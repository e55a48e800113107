/**
 * Ingest benchmark (`npm run bench` / `npm run bench -- ingest [--senders N] [--warmup S]
 * [--seconds S] [--payloads N] [--batch-size N] [--batch-timeout-ms MS] [--direct] [--naive]
 * [--cpu-prof DIR]`). --direct skips the CLI;
 * --naive measures the naive comparison server instead of Skua; --cpu-prof writes a V8 CPU profile
 * of the measured process to DIR.
 *
 * Skua runs as a child process: the CLI (`src/cli/main.ts --config`: otlp receiver (http), batch
 * processor, jaeger_storage memory backend, jaeger_storage_exporter) when it exists, otherwise
 * bench/ingest-server.ts (receiver + memory store). A separate sender process POSTs OTLP/HTTP
 * protobuf requests of 100 spans (5 services, 10 traces, ~10 attributes per span) from several
 * keep-alive connections. Over the measured window we read Skua's CPU time (utime + stime of the
 * whole process from /proc/PID/stat, GC and libuv threads included) and report spans accepted per
 * CPU-second, request latency (p50/p99) and RSS. In the same run, protobufjs decodes the same
 * payloads (decode only, objects discarded) as the baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePorts } from '../src/testutil/ports.js';
import { serviceSection } from '../src/testutil/skua-config.js';
import { generateResourceSpans } from '../src/pdata/testdata/generate.js';
import { otlpType } from '../src/pdata/testdata/otlp-protobufjs.js';
import { toProtobufjsObject } from '../src/pdata/testdata/generate.js';
import { decodeTraceRequestProto, ProtoTraces } from '../src/pdata/proto-view.js';

const root = new URL('..', import.meta.url).pathname;

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

const CLK_TCK = 100; // Linux USER_HZ

function cpuSeconds(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime = field 14, stime = field 15
  return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK };
}

function memory(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const mb = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Payload {
  body: Uint8Array;
  tids: number[];
  spans: number;
}

function makePayloads(n: number): Payload[] {
  const out: Payload[] = [];
  const Req = otlpType('ExportTraceServiceRequest');
  for (let i = 0; i < n; i++) {
    const rs = generateResourceSpans({ spans: 100, perTrace: 10, services: 5, attrs: 10, seed: 1000 + i, baseNanos: BigInt(Date.now()) * 1_000_000n + BigInt(i) * 1_000_000_000n });
    // encoded by protobufjs: the bytes an independent encoder produces
    const body = Req.encode(Req.fromObject(toProtobufjsObject(rs))).finish();
    const t = (decodeTraceRequestProto(body).traces as ProtoTraces).table;
    const tids: number[] = [];
    for (let r = 0; r < t.n; r++) tids.push(t.rows[r * 14 + 3]!);
    out.push({ body, tids, spans: t.n });
  }
  return out;
}

function writePayloadFile(file: string, payloads: Payload[]): void {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(p.body.length);
    const offs = Buffer.alloc(4 + p.tids.length * 4 + 4);
    offs.writeUInt32LE(p.tids.length, 0);
    p.tids.forEach((o, i) => offs.writeUInt32LE(o, 4 + i * 4));
    offs.writeUInt32LE(p.spans, 4 + p.tids.length * 4);
    parts.push(h, Buffer.from(p.body), offs);
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** protobufjs decode-only: spans per CPU-second of this process. */
function protobufjsBaseline(payloads: Payload[], seconds: number): number {
  const Req = otlpType('ExportTraceServiceRequest');
  const bufs = payloads.map((p) => Buffer.from(p.body));
  let spans = 0;
  for (let i = 0; i < 200; i++) Req.decode(bufs[i % bufs.length]!); // warm-up (JIT)
  const c0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  let i = 0;
  let sink = 0;
  while (Date.now() < end) {
    for (let k = 0; k < 20; k++, i++) {
      const m = Req.decode(bufs[i % bufs.length]!) as unknown as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
      for (const r of m.resourceSpans) for (const s of r.scopeSpans) sink += s.spans.length;
    }
  }
  const c = process.cpuUsage(c0);
  spans = sink;
  return spans / ((c.user + c.system) / 1e6);
}

/** Our decoder, decode only (for reference). */
function skuaDecodeOnly(payloads: Payload[], seconds: number): number {
  const bufs = payloads.map((p) => Buffer.from(p.body));
  for (let i = 0; i < 200; i++) decodeTraceRequestProto(bufs[i % bufs.length]!);
  const c0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  let i = 0;
  let spans = 0;
  while (Date.now() < end) for (let k = 0; k < 20; k++, i++) spans += decodeTraceRequestProto(bufs[i % bufs.length]!).traces.spanCount;
  const c = process.cpuUsage(c0);
  return spans / ((c.user + c.system) / 1e6);
}

/** Waits until the OTLP/HTTP endpoint answers an empty export with 200. */
async function waitReady(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`the Skua process exited early (code ${exited})`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: new Uint8Array(0) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Skua did not become ready within ${timeoutMs} ms`);
}

export async function run(args: string[]): Promise<void> {
  const senders = opt(args, 'senders', 8);
  const warmup = opt(args, 'warmup', 4);
  const seconds = opt(args, 'seconds', 12);
  const nPayloads = opt(args, 'payloads', 64);
  const dir = mkdtempSync(join(tmpdir(), 'skua-bench-'));
  const [httpPort, grpcPort, metricsPort, queryPort, healthPort] = await freePorts(5);
  const payloads = makePayloads(nPayloads);
  const payloadFile = join(dir, 'payloads.bin');
  writePayloadFile(payloadFile, payloads);
  const avgBytes = payloads.reduce((a, p) => a + p.body.length, 0) / payloads.length;

  const profIdx = args.indexOf('--cpu-prof');
  const prof = profIdx >= 0 ? ['--cpu-prof', `--cpu-prof-dir=${args[profIdx + 1] ?? '.'}`] : [];
  const cli = join(root, 'src/cli/main.ts');
  const naive = args.includes('--naive');
  // The batch processor acknowledges after the export: with `senders` × 100 spans in flight, a
  // batch size above that would only ever be sent by the timeout.
  const batchSize = opt(args, 'batch-size', Math.min(8192, Math.max(100, (senders * 100) / 2)));
  const batchTimeout = `${opt(args, 'batch-timeout-ms', 200)}ms`;
  const useCli = existsSync(cli) && !args.includes('--direct') && !naive;
  let skua: ChildProcess;
  let mode: string;
  if (useCli) {
    const cfg = join(dir, 'skua.yaml');
    writeFileSync(
      cfg,
      `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${httpPort}
processors:
  batch:
    send_batch_size: ${batchSize}
    timeout: ${batchTimeout}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
${serviceSection({ extensions: ['jaeger_storage'], processors: ['batch'], logLevel: 'warn', metricsPort })}`,
    );
    void grpcPort;
    void queryPort;
    void healthPort;
    skua = spawn(process.execPath, [...prof, '--import', 'tsx', cli, '--config', cfg], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    mode = `skua CLI (otlp http → batch {send_batch_size ${batchSize}, timeout ${batchTimeout}} → jaeger_storage_exporter → memory {max_traces 100000})`;
  } else if (naive) {
    skua = spawn(process.execPath, [...prof, '--import', 'tsx', join(root, 'bench/ingest-naive-server.ts'), String(httpPort), '100000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    mode = 'NOT SKUA: the naive comparison server (protobufjs decode, span objects kept in a ring of 100000 traces)';
  } else {
    skua = spawn(process.execPath, [...prof, '--import', 'tsx', join(root, 'bench/ingest-server.ts'), String(httpPort), '100000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    mode = existsSync(cli) ? 'receiver + memory store in one child process (--direct)' : 'receiver + memory store in one child process (src/cli/main.ts not available)';
  }
  const pid = skua.pid!;
  skua.stdout!.resume();

  try {
    await waitReady(skua, `http://127.0.0.1:${httpPort}/v1/traces`, 60_000);
    const sender = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/ingest-sender.ts'), `http://127.0.0.1:${httpPort}/v1/traces`, payloadFile, String(senders), String(warmup), String(seconds)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let cpu0 = { user: 0, sys: 0 };
    let cpu1 = { user: 0, sys: 0 };
    let result: { ok: number; failed: number; statuses: Record<string, number>; spans: number; seconds: number; p50: number; p99: number; max: number } | undefined;
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: sender.stdout! }).on('line', (line) => {
        const ev = JSON.parse(line) as { event: string };
        if (ev.event === 'start') cpu0 = cpuSeconds(pid);
        if (ev.event === 'end') {
          cpu1 = cpuSeconds(pid);
          result = ev as unknown as typeof result;
        }
      });
      sender.on('exit', (code) => (code === 0 && result ? resolve() : reject(new Error(`sender failed (code ${code})`))));
    });
    const mem = memory(pid);
    const r = result!;
    const cpu = cpu1.user - cpu0.user + (cpu1.sys - cpu0.sys);
    const perCpu = r.spans / cpu;

    const pbRate = protobufjsBaseline(payloads, 4);
    const ourDecode = skuaDecodeOnly(payloads, 2);
    const ratio = perCpu / pbRate;

    const lines = [
      `Skua ingest benchmark — OTLP/HTTP protobuf, ${payloads[0]!.spans} spans/request (~${fmt(avgBytes)} bytes, 5 services, 10 traces, 10 attributes/span), ${senders} keep-alive senders in a separate process`,
      `  Skua process:              ${mode}`,
      `  measured window:           ${r.seconds} s after ${warmup} s warm-up`,
      `  requests:                  ${fmt(r.ok)} ok, ${fmt(r.failed)} failed${r.failed ? ` ${JSON.stringify(r.statuses)}` : ''}`,
      `  spans accepted:            ${fmt(r.spans)} (${fmt(r.spans / r.seconds)} spans/s wall clock)`,
      `  Skua CPU time:             ${cpu.toFixed(2)} s (user ${(cpu1.user - cpu0.user).toFixed(2)} s, sys ${(cpu1.sys - cpu0.sys).toFixed(2)} s; /proc/${pid}/stat, all threads)`,
      `  spans per CPU-second:      ${fmt(perCpu)}`,
      `  request latency:           p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms`,
      `  Skua RSS:                  ${mb(mem.rss)} at the end (peak ${mb(mem.hwm)})`,
      `  baseline, protobufjs decode-only of the same payloads: ${fmt(pbRate)} spans per CPU-second`,
      `  (Skua's own decoder, decode-only: ${fmt(ourDecode)} spans per CPU-second)`,
      `  ratio Skua ingest / protobufjs decode-only: ${ratio.toFixed(2)}×`,
      `  goals: ≥150,000 spans per CPU-second: ${perCpu >= 150_000 ? 'MET' : 'NOT MET'}; ≥0.7× protobufjs decode-only: ${ratio >= 0.7 ? 'MET' : 'NOT MET'}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    if (skua.exitCode === null && skua.signalCode === null) skua.kill('SIGTERM');
    await new Promise((resolve) => {
      if (skua.exitCode !== null || skua.signalCode !== null) return resolve(undefined);
      const t = setTimeout(() => {
        skua.kill('SIGKILL');
        resolve(undefined);
      }, 10_000);
      skua.once('exit', () => {
        clearTimeout(t);
        resolve(undefined);
      });
    });
    rmSync(dir, { recursive: true, force: true });
  }
}
