/**
 * The ingest benchmark's Skua when the CLI (src/cli/main.ts) is not available: the OTLP receiver
 * (HTTP) writing straight into a memory store, in this process. Prints READY when listening.
 * Usage: node --import tsx bench/ingest-server.ts PORT [MAX_TRACES]
 */
import { pino } from 'pino';
import { ComponentId } from '../src/component/id.js';
import { SelfMetrics } from '../src/telemetry/metrics.js';
import { MemoryStore } from '../src/storage/memory/memory.js';
import { factory } from '../src/receivers/otlp/factory.js';
import { configSchema, createDefaultConfig, unmarshal } from '../src/receivers/otlp/config.js';

const port = Number(process.argv[2]);
const maxTraces = Number(process.argv[3] ?? 100_000);
const metrics = new SelfMetrics();
const store = new MemoryStore({ maxTraces, metrics, component: 'jaeger_storage/memstore' });
await store.start();
const cfg = configSchema.parse(unmarshal({ protocols: { http: { endpoint: `127.0.0.1:${port}` } } }, createDefaultConfig()));
const receiver = await factory.createTraces(
  {
    id: ComponentId.of('otlp'),
    kind: 'receiver',
    telemetry: { logger: pino({ level: 'warn' }), metrics },
    buildInfo: { command: 'skua', description: 'bench', version: '0' },
  },
  cfg,
  { consumeTraces: (td, ctx) => store.writeTraces(td, ctx) },
);
await receiver.start({ getExtension: () => undefined, getExtensions: () => new Map(), reportFatalError: () => {} });
process.stdout.write('READY\n');
const stop = async () => {
  await receiver.shutdown();
  await store.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
