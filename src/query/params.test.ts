import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, lookbackParam, parseGoDuration, parseRfc3339, parseTraceId } from './params.js';
import { HttpError } from './http.js';

test('Go durations', () => {
  assert.equal(parseGoDuration('1.5ms'), 1_500_000n);
  assert.equal(parseGoDuration('100us'), 100_000n);
  assert.equal(parseGoDuration('100µs'), 100_000n);
  assert.equal(parseGoDuration('100μs'), 100_000n);
  assert.equal(parseGoDuration('2s'), 2_000_000_000n);
  assert.equal(parseGoDuration('1m'), 60_000_000_000n);
  assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('.5s'), 500_000_000n);
  assert.equal(parseGoDuration('7ns'), 7n);
  assert.equal(parseGoDuration('0'), 0n);
  assert.equal(parseGoDuration('-2s'), -2_000_000_000n);
  for (const bad of ['', '1', 'ms', '1d', '1.2.3s', 'abc', '1 s', '.s']) assert.equal(parseGoDuration(bad), undefined, bad);
});

test('Go duration formatting', () => {
  assert.equal(formatGoDuration(0n), '0s');
  assert.equal(formatGoDuration(1_500_000n), '1.5ms');
  assert.equal(formatGoDuration(5_001_000n), '5.001ms');
  assert.equal(formatGoDuration(1500n), '1.5µs');
  assert.equal(formatGoDuration(12n), '12ns');
  assert.equal(formatGoDuration(2_000_000_000n), '2s');
  assert.equal(formatGoDuration(90_500_000_000n), '1m30.5s');
  assert.equal(formatGoDuration(3_600_000_000_000n), '1h0m0s');
  assert.equal(formatGoDuration(-1_000_000n), '-1ms');
});

test('lookbacks', () => {
  const q = (v: string) => lookbackParam(new URLSearchParams({ lookback: v }));
  assert.equal(q('1h'), 3_600_000_000_000n);
  assert.equal(q('2d'), 2n * 86_400_000_000_000n);
  assert.equal(q('1w'), 7n * 86_400_000_000_000n);
  assert.equal(q('30m'), 1_800_000_000_000n);
  assert.equal(q('1h30m'), 5_400_000_000_000n);
  assert.equal(q('custom'), undefined);
  assert.equal(q(''), undefined);
  assert.throws(() => q('soon'), (e: unknown) => e instanceof HttpError && e.status === 400 && e.message.includes('lookback'));
  assert.throws(() => q('0h'), HttpError);
});

test('RFC 3339 timestamps keep nanoseconds and offsets', () => {
  assert.equal(parseRfc3339('2000-01-02T12:30:08.999999998Z'), 946816208_999_999_998n);
  assert.equal(parseRfc3339('2000-04-05T21:55:16.999999992+08:00'), parseRfc3339('2000-04-05T13:55:16.999999992Z'));
  assert.equal(parseRfc3339('2024-05-01T12:00:00Z'), BigInt(Date.UTC(2024, 4, 1, 12)) * 1_000_000n);
  assert.equal(parseRfc3339('2024-05-01T12:00:00.5-01:30'), BigInt(Date.UTC(2024, 4, 1, 13, 30)) * 1_000_000n + 500_000_000n);
  for (const bad of ['2024-05-01', '2024-13-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-05-01T25:00:00Z', 'NaN', '2024-05-01T00:00:00', '1714564800']) {
    assert.equal(parseRfc3339(bad), undefined, bad);
  }
});

test('trace ids are left-padded to 32 hex digits and lowercased', () => {
  assert.equal(parseTraceId('ABCDEF'), '00000000000000000000000000abcdef');
  assert.equal(parseTraceId('1'), '00000000000000000000000000000001');
  assert.equal(parseTraceId('0123456789abcdef0123456789abcdef'), '0123456789abcdef0123456789abcdef');
  for (const bad of ['', 'xyz', '0123456789abcdef0123456789abcdef0', '12-34']) assert.equal(parseTraceId(bad), undefined, bad);
});
