/**
 * The fast path of the row encoding: rows written byte by byte straight from the protobuf bytes of
 * a decoded request (`ProtoTraces`), without materialising the object model and without making a
 * JS string per value (plain ASCII values and ids are copied; only unusual values take the general
 * path). It writes exactly what `encodeRows` (rows.ts) writes for the same spans: rows.test.ts
 * checks that byte for byte.
 */
import type { AnyValue } from '../../pdata/model.js';
import type { ProtoTraces, SpanTable } from '../../pdata/proto-view.js';
import { readAnyValue, readEvent, readLink } from '../../pdata/proto-view.js';
import { Reader, WIRE_I32, WIRE_LEN, WIRE_VARINT, DecodeError, utf8 } from '../../pdata/wire.js';
import { anyValueString } from '../../pdata/values.js';
import { EMPTY_KEYSET, MAX_NS, encodeAttrs, js, jsKey, noteKeys, ownerJsonOf, typeJson, type Dictionaries } from './rows.js';

const ROW_WORDS = 14;
const F_OFF = 0;
const F_END = 1;
const F_SCOPE = 2;
const F_TID = 3;
const F_SID = 4;
const F_PID = 5;
const F_NAME = 6;
const F_NAMELEN = 7;
const F_KIND = 8;
const F_STATUS = 9;
const F_START_LO = 10;
const F_START_HI = 11;
const F_END_LO = 12;
const F_END_HI = 13;

const EMPTY: AnyValue = {};

/** Output of one encoding call, accumulated over parts. */
export interface RowSink {
  /** The rows' bytes, in chunks (see EncodedRows.body). */
  readonly body: Buffer[];
  bytes: number;
  rows: number;
  readonly owners: Map<number, string>;
  readonly keysets: Map<number, string>;
  readonly attrKeys: Set<string>;
}

// ------------------------------------------------------------------------------------------------
// A growing byte buffer
// ------------------------------------------------------------------------------------------------

const HEXB = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEXB[i * 2] = h.charCodeAt(0);
  HEXB[i * 2 + 1] = h.charCodeAt(1);
}

class Out {
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
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }
  /** A string known to be ASCII. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n > 32) {
      this.pos += this.buf.write(s, this.pos, 'latin1');
      return;
    }
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
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
  /** The unsigned 64-bit hi:lo in decimal, exactly, without BigInt. */
  u64(hi: number, lo: number): void {
    if (hi < 0x200000) {
      this.uint(hi * 4294967296 + lo);
      return;
    }
    const hh = hi >>> 16;
    const hl = hi & 0xffff;
    // hi·2^32 + lo = 1e9·(hh·281474 + hl·4) + (hh·976710656 + hl·294967296 + lo)
    const rem = hh * 976710656 + hl * 294967296 + lo;
    this.uint(hh * 281474 + hl * 4 + Math.floor(rem / 1e9));
    // the low nine digits, zero-padded
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
  /** Any string, as UTF-8. */
  str(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  hex(src: Uint8Array, off: number, n: number): void {
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
  /** A JSON string of the UTF-8 bytes src[s, e), heredoc-safe (no '$'); as js(utf8(...)) would write it. */
  jsonBytes(src: Uint8Array, s: number, e: number): void {
    // Copied while checked (one pass, no views); anything to escape restarts on the general path.
    this.ensure(e - s + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = s; i < e; i++) {
      const c = src[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x24 || c >= 0x7f) {
        this.str(js(utf8(src, s, e)));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }
}

// ------------------------------------------------------------------------------------------------
// Key sets, recognised from the key bytes (no key strings are made for known key sets)
// ------------------------------------------------------------------------------------------------

/** Type tag codes in a key set signature. */
const TAG_STRING = 0;
const TAG_LETTERS = ['', 'b', 'i', 'd', 'y', 'e'];
const TAG_COMPLEX = 6;
const TAG_BOOL = 1;
const TAG_INT = 2;

interface KeysetEntry {
  readonly id: number;
  readonly json: string;
  /** Key bytes, each preceded by its length (u16), for verification. */
  readonly keyBytes: Uint8Array;
  readonly tags: Uint8Array;
}

/** Per-dictionary cache of key sets by hash. */
const keysetCaches = new WeakMap<Dictionaries, Map<number, KeysetEntry[]>>();

/** Scratch for one span's attributes. */
const MAX_ATTRS = 256;
let kOff = new Int32Array(64);
let kLen = new Int32Array(64);
let tags = new Uint8Array(64);
function growScratch(n: number): void {
  if (n <= kOff.length) return;
  const m = Math.max(n, kOff.length * 2);
  const a = new Int32Array(m);
  a.set(kOff);
  kOff = a;
  const b = new Int32Array(m);
  b.set(kLen);
  kLen = b;
  const c = new Uint8Array(m);
  c.set(tags);
  tags = c;
}

function sameKeys(entry: KeysetEntry, src: Uint8Array, n: number): boolean {
  if (entry.tags.length !== n) return false;
  const kb = entry.keyBytes;
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (entry.tags[i] !== tags[i]) return false;
    const len = kLen[i]!;
    if (kb[p]! !== (len & 0xff) || kb[p + 1]! !== len >>> 8) return false;
    p += 2;
    const o = kOff[i]!;
    for (let j = 0; j < len; j++) if (kb[p + j] !== src[o + j]) return false;
    p += len;
  }
  return p === kb.length;
}

/** The key set id of the span's attribute keys/tags (registering it in `keysets` for this call). */
function keysetId(dicts: Dictionaries, src: Uint8Array, n: number, h1: number, h2: number, complex: boolean, keysets: Map<number, string>): number {
  let cache = keysetCaches.get(dicts);
  if (!cache) keysetCaches.set(dicts, (cache = new Map()));
  const key = (h1 >>> 0) * 2097152 + (h2 & 0x1fffff) + (complex ? 0.5 : 0);
  const list = cache.get(key);
  if (list) {
    for (const e of list) {
      if (sameKeys(e, src, n)) {
        if (!keysets.has(e.id)) keysets.set(e.id, e.json);
        return e.id;
      }
    }
  }
  // New (or colliding) key set: the same signature and id the object path would compute.
  let sig = '';
  for (let i = 0; i < n; i++) {
    const k = utf8(src, kOff[i]!, kOff[i]! + kLen[i]!);
    const t = tags[i]!;
    sig += t === TAG_STRING ? k + '\u0000' : t === TAG_COMPLEX ? k + '\u0002' : k + '\u0001"' + TAG_LETTERS[t] + '"';
  }
  const id = dicts.keysets.id(complex ? sig + '\u0003' : sig);
  let size = 0;
  for (let i = 0; i < n; i++) size += 2 + kLen[i]!;
  const kb = new Uint8Array(size);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const len = kLen[i]!;
    kb[p++] = len & 0xff;
    kb[p++] = len >>> 8;
    kb.set(src.subarray(kOff[i]!, kOff[i]! + len), p);
    p += len;
  }
  const entry: KeysetEntry = { id, json: keysetJson(src, n, complex), keyBytes: kb, tags: tags.slice(0, n) };
  if (cache.size > 20_000) cache.clear();
  if (list) list.push(entry);
  else cache.set(key, [entry]);
  if (!keysets.has(id)) keysets.set(id, entry.json);
  return id;
}

function keysetJson(src: Uint8Array, n: number, complex: boolean): string {
  let keys = '[';
  let types = '';
  for (let i = 0; i < n; i++) {
    const jk = jsKey(utf8(src, kOff[i]!, kOff[i]! + kLen[i]!));
    keys += (i > 0 ? ',' : '') + jk;
    const t = tags[i]!;
    if (t !== TAG_STRING && t !== TAG_COMPLEX) types += (types === '' ? '' : ',') + jk + ':"' + TAG_LETTERS[t] + '"';
  }
  if (complex) return '[' + keys + '],""]';
  return '[' + keys + '],' + js(types === '' ? '' : '"at":{' + types + '}') + ']';
}

function fnv(h: number, src: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  return h;
}
function fnv2(h: number, src: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) h = Math.imul(h ^ src[i]!, 0x5bd1e995) ^ (h >>> 15);
  return h;
}

// ------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------

/** Encodes the spans of a ProtoTraces view into `out`. */
export function encodeProtoRows(p: ProtoTraces, tenantJson: string, dicts: Dictionaries, sink: RowSink): void {
  const t = p.table;
  const prefixes = new Map<number, string>();
  const n = p.rows === null ? t.n : p.rows.length;
  const out = new Out(t.buf.length + n * 64);
  const reader = new Reader(t.buf, 0, 0);
  for (let i = 0; i < n; i++) {
    const row = p.rows === null ? i : p.rows[i]!;
    const sc = t.rows[row * ROW_WORDS + F_SCOPE]!;
    let prefix = prefixes.get(sc);
    if (prefix === undefined) {
      const scope = t.scopes[sc]!;
      const res = t.resources[scope.resource]!;
      const resource = t.resource(scope.resource);
      const sco = t.scope(sc);
      noteKeys(sink.attrKeys, 'resource', resource.attributes);
      noteKeys(sink.attrKeys, 'scope', sco.attributes);
      const ownerJson = ownerJsonOf(tenantJson, resource, res.schemaUrl, sco, scope.schemaUrl);
      const id = dicts.owners.id(ownerJson);
      sink.owners.set(id, ownerJson);
      prefix = '[' + id + ',';
      prefixes.set(sc, prefix);
    }
    out.ascii(prefix);
    encodeProtoSpan(t, row, reader, out, dicts, sink.keysets, sink.attrKeys);
  }
  // The rows wait in the writer's queue until their INSERT: keep only their bytes, not the slack
  // of a buffer sized for the worst case.
  const bytes = out.buf.subarray(0, out.pos);
  sink.body.push(out.pos < out.buf.length * 0.75 ? Buffer.from(bytes) : bytes);
  sink.bytes += out.pos;
  sink.rows += n;
}

function encodeProtoSpan(
  t: SpanTable,
  row: number,
  r: Reader,
  out: Out,
  dicts: Dictionaries,
  keysets: Map<number, string>,
  attrKeys: Set<string>,
): void {
  const buf = t.buf;
  const rw = t.rows;
  const base = row * ROW_WORDS;
  r.pos = rw[base + F_OFF]!;
  r.end = rw[base + F_END]!;
  let traceStateOff = -1;
  let traceStateEnd = -1;
  let flags = 0;
  let droppedAttrs = 0;
  let droppedEvents = 0;
  let droppedLinks = 0;
  let msgOff = -1;
  let msgEnd = -1;
  // Attribute values are written to a side buffer while keys are hashed.
  const vals = valsOut;
  vals.pos = 0;
  let na = 0;
  let h1 = 0x811c9dc5;
  let h2 = 0x12345678;
  let complexAt = '';
  let events: string | undefined;
  let evx = '';
  let anyEvx = false;
  let ne = 0;
  let evTs = '[';
  let evNames = '[';
  let evAttrs = '[';
  let links: string | undefined;
  let lkx = '';
  let anyLkx = false;
  let nl = 0;
  let lkTids = '[';
  let lkSids = '[';
  let lkStates = '[';
  let lkAttrs = '[';

  while (r.pos < r.end) {
    const tag = r.uint32();
    const f = tag >>> 3;
    const wt = tag & 7;
    switch (f) {
      case 3:
        if (wt === WIRE_LEN) {
          const e = r.lenEnd();
          traceStateOff = r.pos;
          traceStateEnd = e;
          r.pos = e;
          continue;
        }
        break;
      case 9:
        if (wt === WIRE_LEN) {
          const e = r.lenEnd();
          const outer = r.end;
          r.end = e;
          let ko = -1;
          let ke = -1;
          let so = -1;
          let se = -1;
          let value: AnyValue = EMPTY;
          let isStr = false;
          // A value that is only a small non-negative int or a bool: its digits (or true/false), no objects.
          let small = -1;
          let smallTag = 0;
          while (r.pos < e) {
            const tg = r.uint32();
            if (tg === ((1 << 3) | WIRE_LEN)) {
              ke = r.lenEnd();
              ko = r.pos;
              r.pos = ke;
            } else if (tg === ((2 << 3) | WIRE_LEN)) {
              const ve = r.lenEnd();
              const save = r.pos;
              isStr = false;
              small = -1;
              if (ve > save) {
                const vt = r.uint32();
                if (vt === ((1 << 3) | WIRE_LEN)) {
                  const se2 = r.lenEnd();
                  if (se2 === ve) {
                    so = r.pos;
                    se = se2;
                    r.pos = ve;
                    isStr = true;
                    continue;
                  }
                } else if (vt === ((3 << 3) | WIRE_VARINT) || vt === ((2 << 3) | WIRE_VARINT)) {
                  const n = r.smallVarint(ve);
                  if (n >= 0) {
                    const isBool = vt === ((2 << 3) | WIRE_VARINT);
                    small = isBool ? (n !== 0 ? 1 : 0) : n;
                    smallTag = isBool ? TAG_BOOL : TAG_INT;
                    continue;
                  }
                }
              }
              r.pos = save;
              value = readAnyValue(r, ve, 1);
            } else r.skip(tg & 7);
          }
          r.end = outer;
          r.pos = e;
          if (na >= kOff.length) growScratch(na + 1);
          if (ko < 0) {
            ko = e;
            ke = e;
          }
          kOff[na] = ko;
          kLen[na] = ke - ko;
          if (na > 0) vals.byte(0x2c);
          let tagCode = TAG_STRING;
          if (isStr) vals.jsonBytes(buf, so, se);
          else if (small >= 0) {
            tagCode = smallTag;
            vals.ascii(smallTag === TAG_BOOL ? (small !== 0 ? '"true"' : '"false"') : '"' + small + '"');
          } else if ('stringValue' in value) vals.str(js(value.stringValue));
          else {
            const s = anyValueString(value);
            const ty = typeJson(value, s);
            if (ty.length === 3) {
              // bool, int, double, base64, empty: their string forms need no escaping
              tagCode = TAG_LETTERS.indexOf(ty[1]!);
              vals.byte(0x22);
              vals.ascii(s);
              vals.byte(0x22);
            } else {
              tagCode = TAG_COMPLEX;
              vals.str(js(s));
              complexAt += (complexAt === '' ? '' : ',') + jsKey(utf8(buf, ko, ke)) + ':' + ty;
            }
          }
          tags[na] = tagCode;
          h1 = Math.imul(fnv(h1, buf, ko, ke) ^ (tagCode + 1), 0x01000193);
          h2 = fnv2(h2 ^ (tagCode + 7), buf, ko, ke);
          na++;
          if (na > MAX_ATTRS * 1024) throw new DecodeError('too many attributes');
          continue;
        }
        break;
      case 10:
        if (wt === WIRE_VARINT) {
          droppedAttrs = r.uint32();
          continue;
        }
        break;
      case 11:
        if (wt === WIRE_LEN) {
          const e = r.lenEnd();
          const ev = readEvent(r, e);
          r.pos = e;
          let time = ev.timeUnixNano;
          const name = ev.name;
          const attrs = ev.attributes;
          const dropped = ev.droppedAttributesCount;
          const sep = ne > 0 ? ',' : '';
          let ix = '';
          if (time > MAX_NS) {
            ix += '"x":"' + time + '"';
            time = MAX_NS;
          }
          evTs += sep + '"' + time + '"';
          evNames += sep + js(name);
          const a = encodeAttrs(attrs);
          evAttrs += sep + a.json;
          if (dropped) ix += (ix ? ',' : '') + '"d":' + dropped;
          if (a.types) ix += (ix ? ',' : '') + '"t":' + a.types;
          if (ix) anyEvx = true;
          evx += sep + (ix ? '{' + ix + '}' : '0');
          ne++;
          continue;
        }
        break;
      case 12:
        if (wt === WIRE_VARINT) {
          droppedEvents = r.uint32();
          continue;
        }
        break;
      case 13:
        if (wt === WIRE_LEN) {
          const e = r.lenEnd();
          const lk = readLink(r, e);
          r.pos = e;
          const { traceId: tid, spanId: sid, traceState: state, attributes: attrs, droppedAttributesCount: dropped, flags: lflags } = lk;
          const sep = nl > 0 ? ',' : '';
          lkTids += sep + js(tid);
          lkSids += sep + js(sid);
          noteKeys(attrKeys, 'link', attrs);
          lkStates += sep + js(state);
          const a = encodeAttrs(attrs);
          lkAttrs += sep + a.json;
          let ix = '';
          if (dropped) ix += '"d":' + dropped;
          if (a.types) ix += (ix ? ',' : '') + '"t":' + a.types;
          if (lflags) ix += (ix ? ',' : '') + '"f":' + lflags;
          if (ix) anyLkx = true;
          lkx += sep + (ix ? '{' + ix + '}' : '0');
          nl++;
          continue;
        }
        break;
      case 14:
        if (wt === WIRE_VARINT) {
          droppedLinks = r.uint32();
          continue;
        }
        break;
      case 15:
        if (wt === WIRE_LEN) {
          const e = r.lenEnd();
          const outer = r.end;
          r.end = e;
          while (r.pos < e) {
            const t2 = r.uint32();
            if (t2 === ((2 << 3) | WIRE_LEN)) {
              const e2 = r.lenEnd();
              msgOff = r.pos;
              msgEnd = e2;
              r.pos = e2;
            } else r.skip(t2 & 7);
          }
          r.end = outer;
          continue;
        }
        break;
      case 16:
        if (wt === WIRE_I32) {
          flags = r.fixed32();
          continue;
        }
        break;
    }
    r.skip(wt);
  }
  if (ne > 0) events = evTs + '],' + evNames + '],' + evAttrs + ']';
  if (nl > 0) links = lkTids + '],' + lkSids + '],' + lkStates + '],' + lkAttrs + ']';

  let x = '';
  if (droppedAttrs) x += ',"ad":' + droppedAttrs;
  if (droppedEvents) x += ',"ed":' + droppedEvents;
  if (droppedLinks) x += ',"ld":' + droppedLinks;
  let kind = rw[base + F_KIND]!;
  if (kind > 5) {
    x += ',"k":' + kind;
    kind = 0;
  }
  let code = rw[base + F_STATUS]!;
  if (code > 2) {
    x += ',"c":' + code;
    code = 0;
  }
  const sHi = rw[base + F_START_HI]!;
  const sLo = rw[base + F_START_LO]!;
  const eHi = rw[base + F_END_HI]!;
  const eLo = rw[base + F_END_LO]!;
  // The plain case is written as digits (below); the rest as strings made with BigInt.
  let start: string | undefined;
  let dur: string | undefined;
  const plain = sHi < 0x80000000 && (eHi > sHi || (eHi === sHi && eLo >= sLo)) && eHi - sHi < 0x200000;
  if (!plain) {
    let s = (BigInt(sHi) << 32n) | BigInt(sLo);
    const end = (BigInt(eHi) << 32n) | BigInt(eLo);
    let d = end - s;
    if (s > MAX_NS) {
      x += ',"xs":"' + s + '"';
      s = MAX_NS;
      d = -1n;
    }
    if (d < 0n || d > MAX_NS) {
      x += ',"x":"' + end + '"';
      d = d < 0n ? 0n : MAX_NS;
    }
    start = s.toString();
    dur = d.toString();
  }
  let k = 0;
  const complex = complexAt !== '';
  if (na > 0) {
    k = keysetId(dicts, buf, na, h1, h2, complex, keysets);
    if (complex) {
      let simpleAt = '';
      for (let i = 0; i < na; i++) {
        const tc = tags[i]!;
        if (tc !== TAG_STRING && tc !== TAG_COMPLEX) simpleAt += (simpleAt === '' ? '' : ',') + jsKey(utf8(buf, kOff[i]!, kOff[i]! + kLen[i]!)) + ':"' + TAG_LETTERS[tc] + '"';
      }
      x += ',"at":{' + (simpleAt === '' ? '' : simpleAt + ',') + complexAt + '}';
    }
  } else if (!keysets.has(0)) {
    keysets.set(0, EMPTY_KEYSET);
  }
  if (anyEvx) x += ',"ev":[' + evx + ']';
  if (anyLkx) x += ',"lk":[' + lkx + ']';

  // [o, k, f, "ts", "tid", "sid", "pid", tst, name, kind, "dur", [vals], sc, sm, events…, links…, x]
  out.uint(k);
  out.byte(0x2c);
  out.uint(flags >>> 0);
  out.ascii(',"');
  if (start === undefined) out.u64(sHi, sLo);
  else out.ascii(start);
  out.ascii('","');
  out.hex(buf, rw[base + F_TID]!, 16);
  out.ascii('","');
  out.hex(buf, rw[base + F_SID]!, 8);
  out.ascii('","');
  const pid = rw[base + F_PID]!;
  if (pid !== 0) out.hex(buf, pid, 8);
  out.ascii('",');
  if (traceStateOff < 0 || traceStateEnd === traceStateOff) out.ascii('""');
  else out.jsonBytes(buf, traceStateOff, traceStateEnd);
  out.byte(0x2c);
  const nameOff = rw[base + F_NAME]!;
  out.jsonBytes(buf, nameOff, nameOff + rw[base + F_NAMELEN]!);
  out.byte(0x2c);
  out.uint(kind);
  out.ascii(',"');
  if (dur === undefined) out.uint((eHi - sHi) * 4294967296 + (eLo - sLo));
  else out.ascii(dur);
  out.ascii('",[');
  out.ensure(vals.pos);
  if (vals.pos < 256) {
    const from = vals.buf;
    const to = out.buf;
    let p = out.pos;
    for (let i = 0; i < vals.pos; i++) to[p++] = from[i]!;
  } else vals.buf.copy(out.buf, out.pos, 0, vals.pos);
  out.pos += vals.pos;
  out.ascii('],');
  out.uint(code);
  out.byte(0x2c);
  if (msgOff < 0 || msgEnd === msgOff) out.ascii('""');
  else out.jsonBytes(buf, msgOff, msgEnd);
  out.byte(0x2c);
  out.str(events ?? '[],[],[]');
  out.byte(0x2c);
  out.str(links ?? '[],[],[],[]');
  out.byte(0x2c);
  if (x === '') out.ascii('""]\n');
  else {
    out.str(js(x.slice(1)));
    out.ascii(']\n');
  }
}

const valsOut = new Out(4096);


