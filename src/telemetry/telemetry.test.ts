import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryableError } from '../component/errors.js';
import { SelfMetrics } from './metrics.js';
import { startMetricsServer } from './prometheus.js';

test('dropped spans are counted once per error, with the reason of the component that knows it', async () => {
  const m = new SelfMetrics();
  const err = new RetryableError('full');
  m.dropped('memory_limit', 'processor/memory_limiter', 5, err);
  m.dropped('refused', 'otlp', 5, err); // the receiver passing the same error on: not counted again
  m.dropped('refused', 'otlp', 2, new Error('other'));
  m.dropped('invalid', 'otlp', 0);
  const v = (await m.droppedSpans.get()).values.map((x) => [x.labels['reason'], x.value]);
  assert.deepEqual(v, [['memory_limit', 5], ['refused', 2]]);
});

test('the metrics server serves /metrics (GET, HEAD) on a real port and nothing else', async () => {
  const m = new SelfMetrics();
  m.exporterSentSpans.inc({ exporter: 'x' }, 3);
  const srv = await startMetricsServer(m, '127.0.0.1', 0);
  try {
    const r = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const text = await r.text();
    assert.match(text, /otelcol_exporter_sent_spans\{exporter="x"\} 3/);
    assert.match(text, /otelcol_process_uptime \d/);
    assert.equal((await fetch(`http://127.0.0.1:${srv.port}/metrics`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${srv.port}/metrics`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`http://127.0.0.1:${srv.port}/`)).status, 404);
  } finally {
    await srv.close();
    await srv.close();
  }
});
