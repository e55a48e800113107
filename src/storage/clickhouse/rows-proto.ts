/**
 * The fast path of the row encoding: RowBinary rows written byte by byte straight from the
 * protobuf bytes of a decoded request (`ProtoTraces`), without materialising the object model and
 * without making a JS string per value (ASCII values are copied, ids written as hex; only unusual
 * values, events and links take the general path). It writes exactly what `encodeRows` (rows.ts)
 * writes for the same spans: rows.test.ts checks that byte for byte.
 */
import type { AnyValue, SpanEvent, SpanLink } from '../../pdata/model.js';
import type { ProtoTraces, SpanTable } from '../../pdata/proto-view.js';
import { readAnyValue, readEvent, readLink } from '../../pdata/proto-view.js';
import { Reader, WIRE_I32, WIRE_LEN, WIRE_VARINT, DecodeError, utf8 } from '../../pdata/wire.js';
import { anyValueString } from '../../pdata/values.js';
import { EMPTY_KEYSET, MAX_NS, js, jsKey, noteKeys, ownerJsonOf, typeJson, writeEventsLinks, type Dictionaries } from './rows.js';
import { BinOut } from './rowbinary.js';

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
  const ownerIds = new Map<number, number>();
  const n = p.rows === null ? t.n : p.rows.length;
  const out = rowsOut;
  out.pos = 0;
  const reader = new Reader(t.buf, 0, 0);
  for (let i = 0; i < n; i++) {
    const row = p.rows === null ? i : p.rows[i]!;
    const sc = t.rows[row * ROW_WORDS + F_SCOPE]!;
    let owner = ownerIds.get(sc);
    if (owner === undefined) {
      const scope = t.scopes[sc]!;
      const res = t.resources[scope.resource]!;
      const resource = t.resource(scope.resource);
      const sco = t.scope(sc);
      noteKeys(sink.attrKeys, 'resource', resource.attributes);
      noteKeys(sink.attrKeys, 'scope', sco.attributes);
      const ownerJson = ownerJsonOf(tenantJson, resource, res.schemaUrl, sco, scope.schemaUrl);
      owner = dicts.owners.id(ownerJson);
      sink.owners.set(owner, ownerJson);
      ownerIds.set(sc, owner);
    }
    encodeProtoSpan(t, row, owner, reader, out, dicts, sink.keysets, sink.attrKeys);
  }
  // The rows wait in the writer's queue until their INSERT: keep only their bytes, not the slack
  // of a buffer sized for the worst case.
  sink.body.push(Buffer.from(out.buf.subarray(0, out.pos)));
  if (out.buf.length > ROWS_SCRATCH_KEPT) rowsOut = new BinOut(1 << 20); // after an unusually large request
  sink.bytes += out.pos;
  sink.rows += n;
}

function encodeProtoSpan(
  t: SpanTable,
  row: number,
  owner: number,
  r: Reader,
  out: BinOut,
  dicts: Dictionaries,
  keysets: Map<number, string>,
  attrKeys: Set<string>,
): void {
  const buf = t.buf;
  const rw = t.rows;
  const base = row * ROW_WORDS;
  // What the span table holds is written first (ROW_STRUCTURE); the attribute values follow as
  // the scan finds them, and their count and the key set id are filled in after it.
  let xt = '';
  let kind = rw[base + F_KIND]!;
  if (kind > 5) {
    xt += ',"k":' + kind;
    kind = 0;
  }
  let code = rw[base + F_STATUS]!;
  if (code > 2) {
    xt += ',"c":' + code;
    code = 0;
  }
  const sHi = rw[base + F_START_HI]!;
  const sLo = rw[base + F_START_LO]!;
  const eHi = rw[base + F_END_HI]!;
  const eLo = rw[base + F_END_LO]!;
  // The plain case is written as digits (below); the rest as strings made with BigInt.
  let start: bigint | undefined;
  let dur: bigint | undefined;
  const plain = sHi < 0x80000000 && (eHi > sHi || (eHi === sHi && eLo >= sLo)) && eHi - sHi < 0x200000;
  if (!plain) {
    let s = (BigInt(sHi) << 32n) | BigInt(sLo);
    const end = (BigInt(eHi) << 32n) | BigInt(eLo);
    let d = end - s;
    if (s > MAX_NS) {
      xt += ',"xs":"' + s + '"';
      s = MAX_NS;
      d = -1n;
    }
    if (d < 0n || d > MAX_NS) {
      xt += ',"x":"' + end + '"';
      d = d < 0n ? 0n : MAX_NS;
    }
    start = s;
    dur = d;
  }
  out.u32(owner);
  const kAt = out.reserve(4);
  if (start === undefined) out.u64(sHi, sLo);
  else out.big(start);
  out.hex(buf, rw[base + F_TID]!, 16);
  out.hex(buf, rw[base + F_SID]!, 8);
  const pid = rw[base + F_PID]!;
  if (pid !== 0) out.hex(buf, pid, 8);
  else out.u8(0);
  const nameOff = rw[base + F_NAME]!;
  out.bytes(buf, nameOff, nameOff + rw[base + F_NAMELEN]!);
  out.u8(kind);
  if (dur === undefined) out.u64(eHi - sHi - (eLo < sLo ? 1 : 0), (eLo - sLo) >>> 0);
  else out.big(dur);
  out.u8(code);
  const naAt = out.reserve(3);

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
  // Attribute values are written to the row (below) while their keys are hashed.
  let na = 0;
  let h1 = 0x811c9dc5;
  let h2 = 0x12345678;
  let complexAt = '';
  let events: SpanEvent[] | undefined;
  let links: SpanLink[] | undefined;

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
          let tagCode = TAG_STRING;
          if (isStr) out.bytes(buf, so, se);
          else if (small >= 0) {
            tagCode = smallTag;
            out.str(smallTag === TAG_BOOL ? (small !== 0 ? 'true' : 'false') : String(small));
          } else if ('stringValue' in value) out.str(value.stringValue);
          else {
            const s = anyValueString(value);
            const ty = typeJson(value, s);
            out.str(s);
            if (ty.length === 3) {
              // bool, int, double, base64, empty: a one-letter type in the key set
              tagCode = TAG_LETTERS.indexOf(ty[1]!);
            } else {
              tagCode = TAG_COMPLEX;
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
          (events ??= []).push(readEvent(r, e));
          r.pos = e;
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
          noteKeys(attrKeys, 'link', lk.attributes);
          (links ??= []).push(lk);
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

  out.len3At(naAt, na);
  let x = '';
  if (droppedAttrs) x += ',"ad":' + droppedAttrs;
  if (droppedEvents) x += ',"ed":' + droppedEvents;
  if (droppedLinks) x += ',"ld":' + droppedLinks;
  x += xt;
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

  out.u32At(kAt, k);
  out.u32(flags >>> 0);
  if (traceStateOff < 0) out.u8(0);
  else out.bytes(buf, traceStateOff, traceStateEnd);
  if (msgOff < 0) out.u8(0);
  else out.bytes(buf, msgOff, msgEnd);
  x += writeEventsLinks(out, events, links);
  out.str(x === '' ? '' : x.slice(1));
}

/** The rows of one call, copied out at its end (one allocation of their size per request). */
let rowsOut = new BinOut(1 << 20);
const ROWS_SCRATCH_KEPT = 16 << 20;


