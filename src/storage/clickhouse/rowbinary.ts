/**
 * The rows of an INSERT in ClickHouse's RowBinary format: written by the row encoders (rows.ts,
 * rows-proto.ts), read by the engine from a spool file, and turned into JSONCompactEachRow text
 * (`rowBinaryToJson`) where they must travel inside the statement (a server, or a spool file that
 * cannot be written or read).
 *
 * RowBinary: integers little-endian at their width; a String is its byte length (LEB128) and its
 * bytes; an Array its item count (LEB128) and its items; a Map its pair count and its pairs.
 * Against JSON text, the engine parses it at about half the CPU, and the encoders write numbers and
 * strings without formatting or escaping them (see docs/storage.md, "Write path").
 */
import { utf8 } from '../../pdata/wire.js';

/** A growing byte buffer. */
class Bytes {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(4096, size));
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
}

/** RowBinary values. */
export class BinOut extends Bytes {
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    let p = this.pos;
    b[p++] = v & 0xff;
    b[p++] = (v >>> 8) & 0xff;
    b[p++] = (v >>> 16) & 0xff;
    b[p++] = (v >>> 24) & 0xff;
    this.pos = p;
  }

  /** A 64-bit integer given as its high and low unsigned 32-bit halves. */
  u64(hi: number, lo: number): void {
    this.u32(lo);
    this.u32(hi);
  }

  /** A 64-bit integer (Int64 or UInt64: the same bytes for values in both ranges). */
  big(v: bigint): void {
    this.ensure(8);
    if (v < 0n) this.buf.writeBigInt64LE(v, this.pos);
    else this.buf.writeBigUInt64LE(v, this.pos);
    this.pos += 8;
  }

  /** Reserves `n` bytes, filled in later (`u32At`, `len3At`); returns where they are. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u32At(at: number, v: number): void {
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }

  /**
   * A count below 2^21 in exactly three LEB128 bytes at `at` (ClickHouse reads a padded LEB128 as
   * the number it encodes), so that a row's items can be written before their count is known.
   */
  len3At(at: number, n: number): void {
    if (n >= 0x200000) throw new RangeError(`${n} items: at most ${0x200000 - 1} fit in a padded count`);
    const b = this.buf;
    b[at] = (n & 0x7f) | 0x80;
    b[at + 1] = ((n >>> 7) & 0x7f) | 0x80;
    b[at + 2] = n >>> 14;
  }

  /** A LEB128 length or count. */
  len(n: number): void {
    this.ensure(10);
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 0x80);
    }
    b[this.pos++] = n;
  }

  /** A String from a JS string (UTF-8). */
  str(s: string): void {
    const n = s.length;
    if (n === 0) {
      this.u8(0);
      return;
    }
    if (n <= 42) {
      // At most 126 UTF-8 bytes: one length byte, filled in after.
      this.ensure(1 + n * 3);
      const at = this.pos++;
      const b = this.buf;
      let p = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i < n) p += b.write(s.slice(i), p, 'utf8');
      b[at] = p - this.pos;
      this.pos = p;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.len(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A String from the UTF-8 bytes src[s, e) of a protobuf string field, written as `str` would
   * write the string they decode to (ASCII is copied; anything else is decoded first, so that
   * invalid UTF-8 is replaced as the decoder replaces it).
   */
  bytes(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    this.ensure(n + 10);
    const at = this.pos;
    this.len(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = s; i < e; i++) {
      const c = src[i]!;
      if (c >= 0x80) {
        this.pos = at;
        this.str(utf8(src, s, e));
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** A String of the lowercase hex digits of src[off, off + n). */
  hex(src: Uint8Array, off: number, n: number): void {
    this.len(n * 2);
    this.ensure(n * 2);
    const b = this.buf;
    let p = this.pos;
    for (let i = off; i < off + n; i++) {
      const c = src[i]! * 2;
      b[p++] = HEXB[c]!;
      b[p++] = HEXB[c + 1]!;
    }
    this.pos = p;
  }
}

/** The two lowercase hex digits of every byte value (ids, and the \u00XX escapes of the JSON form). */
const HEXB = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEXB[i * 2] = h.charCodeAt(0);
  HEXB[i * 2 + 1] = h.charCodeAt(1);
}

// ------------------------------------------------------------------------------------------------
// RowBinary → JSONCompactEachRow (the statement form)
// ------------------------------------------------------------------------------------------------

/** A column type as far as the conversion needs it. */
type ColType =
  | { readonly t: 'UInt8' | 'UInt32' | 'Int64' | 'UInt64' | 'String' }
  | { readonly t: 'Array'; readonly of: ColType }
  | { readonly t: 'Map'; readonly key: ColType; readonly value: ColType };

/** Parses the types of a structure (`name Type, …`) made of the types ColType knows. */
export function parseStructure(structure: string): ColType[] {
  const types: ColType[] = [];
  let rest = structure.trim();
  const type = (): ColType => {
    const m = /^(UInt8|UInt32|Int64|UInt64|String|Array|Map)\b/.exec(rest);
    if (!m) throw new Error(`unsupported RowBinary type at "${rest}"`);
    rest = rest.slice(m[0].length).trimStart();
    if (m[1] === 'Array' || m[1] === 'Map') {
      const open = (): void => {
        if (rest[0] !== '(') throw new Error(`expected "(" at "${rest}"`);
        rest = rest.slice(1).trimStart();
      };
      const expect = (c: string): void => {
        if (rest[0] !== c) throw new Error(`expected "${c}" at "${rest}"`);
        rest = rest.slice(1).trimStart();
      };
      open();
      if (m[1] === 'Array') {
        const of = type();
        expect(')');
        return { t: 'Array', of };
      }
      const key = type();
      expect(',');
      const value = type();
      expect(')');
      return { t: 'Map', key, value };
    }
    return { t: m[1] as 'UInt8' };
  };
  while (rest !== '') {
    const name = /^\w+\s+/.exec(rest);
    if (!name) throw new Error(`expected a column name at "${rest}"`);
    rest = rest.slice(name[0].length);
    types.push(type());
    rest = rest.trimStart();
    if (rest[0] === ',') rest = rest.slice(1).trimStart();
  }
  return types;
}

/**
 * JSON text written as bytes: strings copied with only what JSON and the heredoc need escaped
 * (control characters, '"', '\\', '$'; UTF-8 passes as it is), 64-bit integers in decimal without
 * BigInt.
 */
class JsonOut extends Bytes {
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  /** A non-negative integer below 2^53, in decimal. */
  uint(n: number): void {
    this.ensure(16);
    const b = this.buf;
    if (n < 10) {
      b[this.pos++] = 48 + n;
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
  }

  /** The unsigned 64-bit hi·2^32 + lo in decimal, exactly. */
  decimal64(hi: number, lo: number): void {
    if (hi < 0x200000) {
      this.uint(hi * 4294967296 + lo);
      return;
    }
    const hh = hi >>> 16;
    const hl = hi & 0xffff;
    // hi·2^32 + lo = 1e9·(hh·281474 + hl·4) + (hh·976710656 + hl·294967296 + lo)
    const rem = hh * 976710656 + hl * 294967296 + lo;
    this.uint(hh * 281474 + hl * 4 + Math.floor(rem / 1e9));
    this.ensure(9);
    const b = this.buf;
    let low = rem % 1e9;
    for (let i = this.pos + 8; i >= this.pos; i--) {
      const q = Math.floor(low / 10);
      b[i] = 48 + (low - q * 10);
      low = q;
    }
    this.pos += 9;
  }

  /** The string of the UTF-8 bytes src[s, e), quoted. */
  string(src: Buffer, s: number, e: number): void {
    this.ensure((e - s) * 6 + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = s; i < e; i++) {
      const c = src[i]!;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x24) {
        b[p++] = c;
        continue;
      }
      b[p++] = 0x5c;
      if (c === 0x22 || c === 0x5c) b[p++] = c;
      else if (c === 0x0a) b[p++] = 0x6e;
      else {
        // \u00XX: the other control characters and '$' (a heredoc ends at "$$")
        b[p++] = 0x75;
        b[p++] = 0x30;
        b[p++] = 0x30;
        b[p++] = HEXB[c * 2]!;
        b[p++] = HEXB[c * 2 + 1]!;
      }
    }
    b[p++] = 0x22;
    this.pos = p;
  }
}

/**
 * The JSONCompactEachRow lines (heredoc-safe: no raw '$') of RowBinary rows of the given column
 * types. Throws on rows that do not match them.
 */
export function rowBinaryToJson(body: Buffer, types: readonly ColType[]): string {
  const out = new JsonOut(body.length * 2);
  let p = 0;
  const truncated = (): Error => new Error(`truncated RowBinary rows at byte ${p}`);
  const len = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (p >= body.length) throw truncated();
      const x = body[p++]!;
      n += (x & 0x7f) * mul;
      if (x < 0x80) return n;
      mul *= 0x80;
    }
  };
  const value = (c: ColType): void => {
    switch (c.t) {
      case 'UInt8':
        if (p + 1 > body.length) throw truncated();
        out.uint(body[p++]!);
        return;
      case 'UInt32':
        if (p + 4 > body.length) throw truncated();
        out.uint(body.readUInt32LE(p));
        p += 4;
        return;
      case 'Int64':
      case 'UInt64': {
        if (p + 8 > body.length) throw truncated();
        const lo = body.readUInt32LE(p);
        const hi = body.readUInt32LE(p + 4);
        out.u8(0x22);
        if (c.t === 'Int64' && hi >= 0x80000000) out.ascii(body.readBigInt64LE(p).toString());
        else out.decimal64(hi, lo);
        out.u8(0x22);
        p += 8;
        return;
      }
      case 'String': {
        const n = len();
        if (p + n > body.length) throw truncated();
        out.string(body, p, p + n);
        p += n;
        return;
      }
      case 'Array': {
        out.u8(0x5b);
        for (let i = 0, n = len(); i < n; i++) {
          if (i > 0) out.u8(0x2c);
          value(c.of);
        }
        out.u8(0x5d);
        return;
      }
      case 'Map': {
        out.u8(0x7b);
        for (let i = 0, n = len(); i < n; i++) {
          if (i > 0) out.u8(0x2c);
          value(c.key);
          out.u8(0x3a);
          value(c.value);
        }
        out.u8(0x7d);
        return;
      }
    }
  };
  while (p < body.length) {
    out.u8(0x5b);
    for (let i = 0; i < types.length; i++) {
      if (i > 0) out.u8(0x2c);
      value(types[i]!);
    }
    out.ascii(']\n');
  }
  return out.buf.toString('utf8', 0, out.pos);
}
