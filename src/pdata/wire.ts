/**
 * Protobuf wire-format primitives (https://protobuf.dev/programming-guides/encoding/), written
 * for the few OTLP messages Skua reads and writes. Decoding works on offsets into one buffer and
 * allocates nothing unless a value is asked for.
 */

/** The input is not a valid protobuf (or OTLP/JSON) encoding of the expected message. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** A cursor over `buf[pos, end)`. Every read checks bounds and throws DecodeError. */
export class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    public end = buf.length,
  ) {}

  /** A varint truncated to its low 32 bits (unsigned). Accepts up to 10 bytes, as int64 encodings use. */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    // Bytes past `end` (but inside the buffer) may be read speculatively; the result is checked below.
    if (p + 10 > b.length) return this.uint32Slow();
    let c = b[p++]!;
    let v = c & 0x7f;
    if (c >= 0x80) {
      c = b[p++]!;
      v |= (c & 0x7f) << 7;
      if (c >= 0x80) {
        c = b[p++]!;
        v |= (c & 0x7f) << 14;
        if (c >= 0x80) {
          c = b[p++]!;
          v |= (c & 0x7f) << 21;
          if (c >= 0x80) {
            c = b[p++]!;
            v |= (c & 0x0f) << 28;
            if (c >= 0x80) {
              // bytes 6..10 only carry high bits of a 64-bit value
              let i = 0;
              while (b[p++]! >= 0x80) if (++i === 5) throw new DecodeError('varint longer than 10 bytes');
            }
          }
        }
      }
    }
    if (p > this.end) throw new DecodeError('truncated varint');
    this.pos = p;
    return v >>> 0;
  }

  private uint32Slow(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new DecodeError('truncated varint');
      const c = b[p++]!;
      if (i < 5) v |= (c & 0x7f) << (7 * i);
      if (c < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    throw new DecodeError('varint longer than 10 bytes');
  }

  /** A varint as a signed 64-bit bigint (int64 two's complement). */
  int64(): bigint {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; ; i++) {
      if (i === 10) throw new DecodeError('varint longer than 10 bytes');
      if (p >= this.end) throw new DecodeError('truncated varint');
      const c = b[p++]!;
      const bits = c & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (c < 0x80) break;
    }
    this.pos = p;
    return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /**
   * A varint of at most 7 bytes that ends exactly at `end`, as a number (below 2^49, so exact), or
   * -1 with `pos` unchanged for anything else: small ints and bools without a bigint.
   */
  smallVarint(end: number): number {
    if (end - this.pos > 7 || end > this.end) return -1;
    const b = this.buf;
    let p = this.pos;
    let n = 0;
    let mul = 1;
    let c = 0x80;
    while (p < end && c >= 0x80) {
      c = b[p++]!;
      n += (c & 0x7f) * mul;
      mul *= 128;
    }
    if (c >= 0x80 || p !== end) return -1;
    this.pos = p;
    return n;
  }

  fixed32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw new DecodeError('truncated fixed32');
    const b = this.buf;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** fixed64 as an unsigned bigint. */
  fixed64(): bigint {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  double(): number {
    const p = this.pos;
    if (p + 8 > this.end) throw new DecodeError('truncated double');
    this.pos = p + 8;
    return new DataView(this.buf.buffer, this.buf.byteOffset + p, 8).getFloat64(0, true);
  }

  /** Reads a length prefix and returns the end offset of the delimited payload (pos = its start). */
  lenEnd(): number {
    const n = this.uint32();
    const e = this.pos + n;
    if (e > this.end) throw new DecodeError('length-delimited field overruns its message');
    return e;
  }

  string(): string {
    const e = this.lenEnd();
    const s = utf8(this.buf, this.pos, e);
    this.pos = e;
    return s;
  }

  bytes(): Uint8Array {
    const e = this.lenEnd();
    const out = new Uint8Array(this.buf.subarray(this.pos, e)); // a copy, never a Buffer view
    this.pos = e;
    return out;
  }

  /** Skips a field of wire type `wt` (groups are not used by OTLP and are rejected). */
  skip(wt: number): void {
    switch (wt) {
      case WIRE_VARINT:
        this.uint32();
        return;
      case WIRE_I64:
        if (this.pos + 8 > this.end) throw new DecodeError('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.lenEnd();
        return;
      case WIRE_I32:
        if (this.pos + 4 > this.end) throw new DecodeError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new DecodeError(`invalid wire type ${wt}`);
    }
  }
}

const textDecoder = new TextDecoder('utf-8');

/** Decodes UTF-8 (invalid sequences become U+FFFD); short ASCII strings take a fast path. */
export function utf8(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n <= 32) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return textDecoder.decode(b.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return textDecoder.decode(b.subarray(start, end));
}

const textEncoder = new TextEncoder();

/**
 * An append-only protobuf writer. Nested messages are written in place: `fork` reserves one byte
 * for the length and `join` widens it when the payload turns out longer than 127 bytes.
 */
export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  tag(field: number, wt: number): this {
    return this.varint32((field << 3) | wt);
  }

  varint32(v: number): this {
    this.ensure(5);
    v >>>= 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Any int64/uint64 as a varint (negative values take 10 bytes). */
  varint64(v: bigint): this {
    this.ensure(10);
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
    return this;
  }

  fixed32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.pos = p + 4;
    return this;
  }

  fixed64(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    this.fixed32(Number(u & 0xffffffffn));
    return this.fixed32(Number(u >> 32n));
  }

  double(v: number): this {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, true);
    this.pos += 8;
    return this;
  }

  bytes(field: number, v: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  string(field: number, s: string): this {
    this.tag(field, WIRE_LEN);
    // ASCII fast path; otherwise encode separately.
    let ascii = s.length < 128;
    if (ascii) {
      for (let i = 0; i < s.length; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
    }
    if (ascii) {
      this.varint32(s.length);
      this.ensure(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
      return this;
    }
    const enc = textEncoder.encode(s);
    this.varint32(enc.length);
    this.ensure(enc.length);
    this.buf.set(enc, this.pos);
    this.pos += enc.length;
    return this;
  }

  /** Starts a nested message for `field`; returns a mark for `join`. */
  fork(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    const mark = this.pos;
    this.buf[this.pos++] = 0;
    return mark;
  }

  join(mark: number): this {
    const len = this.pos - mark - 1;
    if (len < 0x80) {
      this.buf[mark] = len;
      return this;
    }
    let k = 1;
    for (let v = len; v >= 0x80; v >>>= 7) k++;
    this.ensure(k - 1);
    this.buf.copyWithin(mark + k, mark + 1, this.pos);
    this.pos += k - 1;
    let p = mark;
    let v = len;
    while (v >= 0x80) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
