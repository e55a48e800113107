/**
 * For comparison only (`npm run bench -- ingest --naive`): the naive design Skua avoids — an HTTP
 * server that decodes OTLP with protobufjs and keeps the decoded span objects in a ring of 100,000
 * traces. Not part of Skua. Usage: node --import tsx bench/ingest-naive-server.ts PORT [MAX_TRACES]
 */
import * as http from 'node:http';
import { otlpType } from '../src/pdata/testdata/otlp-protobufjs.js';

const port = Number(process.argv[2]);
const maxTraces = Number(process.argv[3] ?? 100_000);
const Req = otlpType('ExportTraceServiceRequest');
type Msg = { resourceSpans: { resource: unknown; scopeSpans: { spans: { traceId: Uint8Array }[] }[] }[] };
const traces = new Map<string, unknown[]>();
const ring: string[] = [];
let head = 0;

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = Req.decode(Buffer.concat(chunks)) as unknown as Msg;
      for (const rs of m.resourceSpans) {
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            const id = Buffer.from(s.traceId).toString('hex');
            let t = traces.get(id);
            if (!t) {
              t = [];
              traces.set(id, t);
              if (ring.length < maxTraces) ring.push(id);
              else {
                traces.delete(ring[head]!);
                ring[head] = id;
                head = (head + 1) % maxTraces;
              }
            }
            t.push({ resource: rs.resource, span: s });
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 }).end();
    });
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => process.exit(0));
