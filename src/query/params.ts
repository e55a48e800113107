/**
 * Parsing of query-API parameters: Go durations, lookbacks, microsecond and RFC 3339 timestamps,
 * trace ids, tag filters. Every failure is an `HttpError(400)` whose message names the parameter.
 */
import type { TraceId, UnixNanos } from '../pdata/model.js';
import { spanKindNames, type SpanKindName } from '../storage/api.js';
import { HttpError } from './http.js';

export const NS_PER_US = 1_000n;
export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

const goUnits: Record<string, bigint> = {
  ns: 1n,
  us: NS_PER_US,
  'µs': NS_PER_US, // U+00B5 micro sign
  'μs': NS_PER_US, // U+03BC Greek mu
  ms: NS_PER_MS,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
};

/** Scales a decimal string "12.345" by `unit` nanoseconds, exactly (truncating below 1 ns). */
function scaleDecimal(intPart: string, frac: string, unit: bigint): bigint {
  let v = BigInt(intPart || '0') * unit;
  if (frac) v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
  return v;
}

/**
 * A Go `time.ParseDuration` string ("1.5ms", "100us", "2s", "1m30s", "0") as nanoseconds, or
 * undefined when it is not one. Negative durations are accepted here; callers decide.
 */
export function parseGoDuration(s: string): UnixNanos | undefined {
  let rest = s;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = re.exec(rest);
    if (!m) return undefined;
    const [all, intPart = '', frac = '', unit = ''] = m;
    if (intPart === '' && frac === '') return undefined;
    total += scaleDecimal(intPart, frac, goUnits[unit]!);
    rest = rest.slice(all.length);
  }
  return sign * total;
}

/** A non-negative Go duration parameter; undefined when absent or empty. */
export function durationParam(q: URLSearchParams, name: string): UnixNanos | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '') return undefined;
  const d = parseGoDuration(v.trim());
  if (d === undefined) throw badParam(name, `"${v}" is not a duration (use e.g. 1.5ms, 100us, 2s, 1m)`);
  if (d < 0n) throw badParam(name, `"${v}" is negative`);
  return d;
}

const lookbackUnits: Record<string, bigint> = { s: NS_PER_S, m: 60n * NS_PER_S, h: 3600n * NS_PER_S, d: 86_400n * NS_PER_S, w: 7n * 86_400n * NS_PER_S };

/**
 * Jaeger UI's lookback values ("5m", "1h", "2d", "1w") and Go durations, as nanoseconds;
 * 'custom' (the UI's explicit range) and absent give undefined.
 */
export function lookbackParam(q: URLSearchParams, name = 'lookback'): UnixNanos | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '' || v === 'custom') return undefined;
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(v.trim());
  let d: bigint | undefined;
  if (m) {
    const [intPart = '', frac = ''] = m[1]!.split('.');
    d = scaleDecimal(intPart, frac, lookbackUnits[m[2]!]!);
  } else {
    d = parseGoDuration(v.trim());
  }
  if (d === undefined || d <= 0n) throw badParam(name, `"${v}" is not a lookback (use e.g. 1h, 2d, 30m or custom)`);
  return d;
}

/** An integer count of `unit` nanoseconds since the epoch (µs for /api/traces, ms for /api/dependencies). */
export function epochParam(q: URLSearchParams, name: string, unit: bigint): UnixNanos | undefined {
  const v = q.get(name);
  if (v === null || v.trim() === '') return undefined;
  if (!/^\d{1,19}$/.test(v.trim())) throw badParam(name, `"${v}" is not a non-negative integer timestamp`);
  return BigInt(v.trim()) * unit;
}

/** A positive integer parameter within [1, max]; `def` when absent. */
export function intParam(q: URLSearchParams, name: string, def: number, max: number): number {
  const v = q.get(name);
  if (v === null || v.trim() === '') return def;
  if (!/^\d+$/.test(v.trim())) throw badParam(name, `"${v}" is not a positive integer`);
  const n = Number(v.trim());
  if (n < 1 || n > max) throw badParam(name, `${n} is out of range (1..${max})`);
  return n;
}

/** A boolean parameter as Go's strconv.ParseBool reads it. */
export function boolParam(q: URLSearchParams, names: readonly string[]): boolean {
  for (const name of names) {
    const v = q.get(name);
    if (v === null || v === '') continue;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw badParam(name, `"${v}" is not a boolean`);
  }
  return false;
}

const daysInMonth = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** RFC 3339 with up to nanosecond precision ("2024-05-01T12:00:00.123456789Z", "+02:00"), or undefined. */
export function parseRfc3339(s: string): UnixNanos | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac = '', z, sign, oh, om] = m;
  const y = Number(ys), mo = Number(mos), d = Number(ds), h = Number(hs), mi = Number(mis), sec = Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60) return undefined;
  let ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(sec, 59));
  if (!z) {
    const off = (Number(oh) * 60 + Number(om)) * 60_000;
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    ms += sign === '+' ? -off : off;
  }
  return BigInt(ms) * NS_PER_MS + (frac ? BigInt(frac.padEnd(9, '0')) : 0n);
}

export function rfc3339Param(q: URLSearchParams, name: string): UnixNanos | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const t = parseRfc3339(v);
  if (t === undefined) throw badParam(name, `"${v}" is not an RFC 3339 timestamp (e.g. 2024-05-01T12:00:00Z)`);
  return t;
}

/** A trace id of 1 to 32 hex digits, left-padded with zeros to 32 (as Jaeger accepts them). */
export function parseTraceId(s: string): TraceId | undefined {
  if (!/^[0-9a-fA-F]{1,32}$/.test(s)) return undefined;
  return s.toLowerCase().padStart(32, '0') as TraceId;
}

export function traceIdParam(value: string, name: string): TraceId {
  const id = parseTraceId(value);
  if (!id) throw badParam(name, `"${value}" is not a trace id (1 to 32 hex digits)`);
  return id;
}

export function spanKindParam(q: URLSearchParams, names: readonly string[]): SpanKindName | undefined {
  for (const name of names) {
    const v = q.get(name);
    if (v === null || v === '') continue;
    const k = v.toLowerCase().replace(/^span_kind_/, '') as SpanKindName;
    if (!spanKindNames.includes(k)) throw badParam(name, `"${v}" is not a span kind (one of ${spanKindNames.join(', ')})`);
    return k;
  }
  return undefined;
}

/** A JSON object of attribute filters; values may be strings, numbers or booleans (compared by string form). */
export function parseTagsJson(v: string, name: string, into: Map<string, string>): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw badParam(name, `not a JSON object (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badParam(name, 'must be a JSON object like {"http.status_code":"500"}');
  for (const [k, val] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') into.set(k, String(val));
    else throw badParam(name, `the value of "${k}" must be a string, number or boolean`);
  }
}

export function badParam(name: string, why: string): HttpError {
  return new HttpError(400, `malformed parameter ${name}: ${why}`);
}

/** Formats nanoseconds as Go's time.Duration.String() does ("1.5ms", "2m3.5s", "0s"). */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < NS_PER_S) {
    const [unit, div] = u < NS_PER_US ? ['ns', 1n] : u < NS_PER_MS ? ['µs', NS_PER_US] : ['ms', NS_PER_MS];
    out = fmtFrac(u, div as bigint) + unit;
  } else {
    const h = u / (3600n * NS_PER_S);
    u -= h * 3600n * NS_PER_S;
    const m = u / (60n * NS_PER_S);
    u -= m * 60n * NS_PER_S;
    out = (h > 0n ? `${h}h` : '') + (h > 0n || m > 0n ? `${m}m` : '') + fmtFrac(u, NS_PER_S) + 's';
  }
  return neg ? '-' + out : out;
}
function fmtFrac(v: bigint, div: bigint): string {
  const i = v / div;
  const f = v % div;
  if (f === 0n) return String(i);
  const digits = String(div).length - 1;
  return `${i}.${String(f).padStart(digits, '0').replace(/0+$/, '')}`;
}
