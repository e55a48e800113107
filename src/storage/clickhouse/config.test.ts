import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, createDefaultConfig, ttlSeconds } from './config.js';
import { factory } from './factory.js';
import { storageFactory, storageTypes } from '../factories.js';

const parse = (over: Record<string, unknown>) => configSchema.safeParse({ ...createDefaultConfig(), ...over });
const messages = (r: ReturnType<typeof parse>) => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

describe('clickhouse config', () => {
  test('the factory is registered as "clickhouse" with the defaults of the issue', () => {
    assert.ok(storageTypes().includes('clickhouse'));
    assert.equal(storageFactory('clickhouse'), factory);
    const d = factory.createDefaultConfig();
    assert.equal(d.database, 'skua');
    assert.equal(d.create_schema, true);
    assert.equal(d.ttl, '168h');
    assert.equal(d.cluster, '');
    assert.equal(ttlSeconds(d), 168 * 3600);
    assert.equal(ttlSeconds({ ttl: '0s' }), 0);
  });

  test('embedded or url, exactly one', () => {
    assert.ok(parse({ embedded: { path: './skua-data' } }).success);
    assert.ok(parse({ url: 'http://clickhouse:8123', username: 'u', password: 'p' }).success);
    assert.ok(parse({ url: 'https://ch.example:8443', tls: { ca_file: '/ca.pem', cert_file: '/c.pem', key_file: '/k.pem' } }).success);
    const neither = parse({});
    assert.ok(!neither.success);
    assert.match(messages(neither).join('\n'), /exactly one of "embedded".*or "url"/);
    const both = parse({ embedded: { path: 'x' }, url: 'http://h:8123' });
    assert.ok(!both.success);
    assert.match(messages(both).join('\n'), /exactly one/);
  });

  test('bad values are rejected with the field named', () => {
    assert.match(messages(parse({ url: 'ftp://h' })).join('\n'), /^url: expected an http/m);
    assert.match(messages(parse({ url: 'not a url' })).join('\n'), /^url: /m);
    assert.match(messages(parse({ embedded: { path: 'x' }, username: 'u' })).join('\n'), /^username: .*server/m);
    assert.match(messages(parse({ embedded: { path: 'x' }, cluster: 'c' })).join('\n'), /^cluster: /m);
    assert.match(messages(parse({ embedded: { path: 'x' }, ttl: '7 days' })).join('\n'), /^ttl: expected a duration/m);
    assert.match(messages(parse({ embedded: { path: 'x' }, database: 'bad-name' })).join('\n'), /^database: /m);
    assert.match(messages(parse({ url: 'http://h:8123', tls: { cert_file: '/c.pem' } })).join('\n'), /^tls: cert_file and key_file go together/m);
    assert.ok(parse({ embedded: { path: 'x', uncompressed_cache_size: 0 } }).success);
    assert.match(messages(parse({ embedded: { path: 'x', uncompressed_cache_size: -1 } })).join('\n'), /^embedded\.uncompressed_cache_size: /m);
    assert.match(messages(parse({ embedded: { path: 'x', uncompressed_cache_size: '1G' } })).join('\n'), /^embedded\.uncompressed_cache_size: /m);
  });

  test('unknown keys are errors (strict)', () => {
    const r = parse({ embedded: { path: 'x', size: 1 } });
    assert.ok(!r.success);
    assert.match(messages(r).join('\n'), /embedded/);
    const r2 = parse({ embedded: { path: 'x' }, hosts: ['a'] });
    assert.ok(!r2.success);
  });
});
