import type { AnyValue, KeyValue } from './model.js';

/**
 * The string form of an attribute value, as Jaeger and the Collector's `AsString()` give it:
 * strings as is, `true`/`false`, integers in decimal, doubles in shortest round-trip form
 * (`72.5`), bytes in base64, arrays and maps as JSON. Query APIs compare attributes by this form.
 */
export function anyValueString(v: AnyValue): string {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue ? 'true' : 'false';
  if ('intValue' in v) return v.intValue.toString();
  if ('doubleValue' in v) return doubleString(v.doubleValue);
  if ('bytesValue' in v) return Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64');
  if ('arrayValue' in v || 'kvlistValue' in v) return JSON.stringify(anyValueToPlain(v));
  return '';
}

export function doubleString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  return String(d);
}

/** A JSON-friendly plain value (maps as objects, int64 as number when safe, else string). */
export function anyValueToPlain(v: AnyValue): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : v.intValue.toString();
  }
  if ('doubleValue' in v) return Number.isFinite(v.doubleValue) ? v.doubleValue : doubleString(v.doubleValue);
  if ('bytesValue' in v) return anyValueString(v);
  if ('arrayValue' in v) return v.arrayValue.values.map(anyValueToPlain);
  if ('kvlistValue' in v) return kvToPlain(v.kvlistValue.values);
  return null;
}

function kvToPlain(kvs: readonly KeyValue[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const kv of kvs) o[kv.key] = anyValueToPlain(kv.value);
  return o;
}
