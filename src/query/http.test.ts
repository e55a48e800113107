// sendJsonStream writes the pieces' UTF-8 bytes unchanged, across chunk and buffer-growth boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonStream, sendJsonStream } from './http.js';

test('a streamed body is the concatenation of its pieces, multi-byte characters included', async () => {
  const pieces = [
    '{"a":"x"',
    ',"b":"é🙂✓"',
    ',"c":"' + 'é'.repeat(40_000) + '"', // 80 KB of UTF-8 in one piece: more than the first buffer
    ',"d":"' + '🙂'.repeat(200_000) + '"', // 800 KB: more than a chunk
    ...Array.from({ length: 5000 }, (_, i) => `,"k${i}":"${i % 7 === 0 ? 'ü' : 'u'}${'v'.repeat(i % 50)}"`),
    '}',
  ];
  const server = createServer((req, res) => void sendJsonStream(res, new JsonStream(pieces)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const expected = Buffer.from(pieces.join(''));
    assert.equal(bytes.length, expected.length);
    assert.ok(bytes.equals(expected), 'the same bytes');
    assert.equal((JSON.parse(bytes.toString()) as { d: string }).d.length, 400_000);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
