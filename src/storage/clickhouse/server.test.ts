/**
 * Server mode (`url`), where no ClickHouse server can run here (see docs/storage.md): what the
 * operator sees when the server is unreachable or refuses the credentials, and how the write path
 * behaves while it is down. The credential test answers from a stand-in HTTP endpoint that replies
 * as ClickHouse does (status and body of error 516); everything else uses real sockets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createClient } from '@clickhouse/client';
import { RetryableError } from '../../component/errors.js';
import { freePort } from '../../testutil/ports.js';
import { baseTime, makeResourceSpans, makeSpan, newTraceId, traces } from '../conformance.js';
import { createDefaultConfig, type Config } from './config.js';
import { ClickHouseStore } from './clickhouse.js';
import { BatchWriter } from './writer.js';

function serverConfig(url: string, over: Partial<Config> = {}): Config {
  return { ...createDefaultConfig(), url, username: 'skua', password: 'wrong', timeout: '2s', ...over };
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port };
}

describe('clickhouse server mode', () => {
  test('an unreachable server: start fails naming the backend, the URL and the cause', async () => {
    const port = await freePort(); // nothing listens there
    const store = new ClickHouseStore({ config: serverConfig(`http://127.0.0.1:${port}`), name: 'prod' });
    await assert.rejects(store.start(), (e: Error) => {
      assert.match(e.message, /clickhouse backend "prod" cannot start: ClickHouse at http:\/\/127\.0\.0\.1:\d+ is unreachable \(.*ECONNREFUSED.*\)/);
      return true;
    });
    await store.close();
  });

  test('refused credentials: start fails saying so (and never prints the password)', async () => {
    const { server, port } = await listen((req, res) => {
      if (req.url?.startsWith('/ping')) {
        res.end('Ok.\n'); // as ClickHouse: /ping needs no credentials
        return;
      }
      req.resume();
      res.writeHead(516, { 'X-ClickHouse-Exception-Code': '516', 'Content-Type': 'text/plain' });
      res.end('Code: 516. DB::Exception: skua: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 24.8.1.1)\n');
    });
    try {
      const store = new ClickHouseStore({ config: serverConfig(`http://skua:secret-in-url@127.0.0.1:${port}`), name: 'prod' });
      await assert.rejects(store.start(), (e: Error) => {
        assert.match(e.message, /ClickHouse at http:\/\/127\.0\.0\.1:\d+ refused the credentials \(.*Authentication failed.*\); check username and password/);
        assert.doesNotMatch(e.message, /secret-in-url|wrong/);
        return true;
      });
      await store.close();
    } finally {
      server.close();
    }
  });

  test('while the server is down, writes fail with RetryableError (after retries), then fast', async () => {
    const port = await freePort();
    const client = createClient({ url: `http://127.0.0.1:${port}`, request_timeout: 1000, log: { level: 127 as never } });
    const errors: string[] = [];
    const writer = new BatchWriter(client, {
      database: 'skua',
      batchMaxRows: 1000,
      batchMaxBytes: 1 << 20,
      batchTimeoutMs: 5,
      maxPendingRows: 10_000,
      concurrency: 1,
      retryMaxElapsedMs: 300,
      distributed: false,
      recordKeys: true,
      where: `http://127.0.0.1:${port}`,
      onError: (m) => errors.push(m),
    });
    const td = () => traces(makeResourceSpans({ service: 's' }, [makeSpan({ traceId: newTraceId(), start: baseTime() })]));
    try {
      const t0 = Date.now();
      await assert.rejects(writer.write(td(), ''), (e: unknown) => {
        assert.ok(e instanceof RetryableError, String(e));
        assert.match(e.message, /is unreachable/);
        return true;
      });
      assert.ok(Date.now() - t0 >= 300, 'retried for retry_max_elapsed');
      assert.ok(errors.length >= 2, `each attempt is reported (${errors.length})`);
      const t1 = Date.now();
      await assert.rejects(writer.write(td(), ''), (e: unknown) => e instanceof RetryableError && /unavailable/.test(e.message) && e.retryAfterMs === 1000);
      assert.ok(Date.now() - t1 < 100, 'refused at once while down');
    } finally {
      await writer.close();
      await client.close();
    }
  });
});
