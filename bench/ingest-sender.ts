/**
 * The ingest benchmark's load generator (a separate process, so that its CPU is not Skua's):
 * CONCURRENCY keep-alive connections each POSTing OTLP/HTTP protobuf requests back to back.
 * Every request gets fresh trace ids (a sequence number written over the first 4 bytes of each
 * trace id), so traces do not repeat when payloads are reused.
 *
 * stdin: nothing. argv: URL PAYLOAD_FILE CONCURRENCY WARMUP_S MEASURE_S
 * stdout (JSON lines): {"event":"start"} when the measured window opens, {"event":"end", ...} with
 * the window's results.
 */
import * as http from 'node:http';
import { readFileSync } from 'node:fs';

const [url = '', file = '', conc = '8', warm = '3', meas = '12'] = process.argv.slice(2);
const concurrency = Number(conc);
const warmupMs = Number(warm) * 1000;
const measureMs = Number(meas) * 1000;

// payload file: repeated [u32 len][bytes][u32 nOffsets][u32 offsets...][u32 spans]
const raw = readFileSync(file);
const payloads: { body: Buffer; tids: number[]; spans: number }[] = [];
for (let p = 0; p < raw.length; ) {
  const len = raw.readUInt32LE(p);
  p += 4;
  const body = raw.subarray(p, p + len);
  p += len;
  const n = raw.readUInt32LE(p);
  p += 4;
  const tids: number[] = [];
  for (let i = 0; i < n; i++, p += 4) tids.push(raw.readUInt32LE(p));
  const spans = raw.readUInt32LE(p);
  p += 4;
  payloads.push({ body, tids, spans });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
const target = new URL(url);
let seq = 1;
let next = 0;

function send(): Promise<{ status: number; spans: number }> {
  const pl = payloads[next++ % payloads.length]!;
  const body = Buffer.from(pl.body);
  const s = seq++;
  for (const o of pl.tids) body.writeUInt32BE(s, o);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, spans: pl.spans }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const t0 = Date.now();
const startAt = t0 + warmupMs;
const endAt = startAt + measureMs;
let started = false;
const lat: number[] = [];
let ok = 0;
let failed = 0;
let spans = 0;
const statuses: Record<string, number> = {};

async function worker(): Promise<void> {
  while (Date.now() < endAt) {
    const a = performance.now();
    let r: { status: number; spans: number } | undefined;
    try {
      r = await send();
    } catch {
      r = undefined;
    }
    const now = Date.now();
    if (!started && now >= startAt) {
      started = true;
      process.stdout.write(JSON.stringify({ event: 'start' }) + '\n');
    }
    if (now >= startAt && now <= endAt) {
      lat.push(performance.now() - a);
      if (r && r.status === 200) {
        ok++;
        spans += r.spans;
      } else {
        failed++;
        const k = String(r?.status ?? 'error');
        statuses[k] = (statuses[k] ?? 0) + 1;
      }
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
lat.sort((x, y) => x - y);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
process.stdout.write(
  JSON.stringify({ event: 'end', ok, failed, statuses, spans, seconds: measureMs / 1000, p50: pct(50), p99: pct(99), max: lat[lat.length - 1] ?? NaN }) + '\n',
);
agent.destroy();
