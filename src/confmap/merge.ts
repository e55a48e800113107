/**
 * Plain-data helpers for configuration maps: the Collector's merge rules (maps merge key by key,
 * everything else — lists included — is replaced by the later value) and `::` key splitting.
 */

export type ConfMap = { [key: string]: unknown };

export function isMap(v: unknown): v is ConfMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Merges `later` into `earlier` as the Collector's resolver does when several `--config` sources are
 * given: maps merge recursively, any other value (lists, scalars, null) replaces. Returns a new
 * value; the inputs are not modified.
 */
export function mergeConfigs(earlier: unknown, later: unknown): unknown {
  if (!isMap(earlier) || !isMap(later)) return clone(later);
  const out: ConfMap = { ...earlier };
  for (const [k, v] of Object.entries(later)) {
    out[k] = k in earlier ? mergeConfigs(earlier[k], v) : clone(v);
  }
  return out;
}

/**
 * Applies a user's component config over the factory's defaults. As `mergeConfigs`, except that a
 * null (an empty YAML value such as `batch:` or `grpc:`) keeps the default: an empty key means
 * "present, with default settings".
 */
export function mergeOverDefaults(defaults: unknown, user: unknown): unknown {
  if (user === null || user === undefined) return clone(defaults);
  if (!isMap(defaults) || !isMap(user)) return clone(user);
  const out: ConfMap = clone(defaults) as ConfMap;
  for (const [k, v] of Object.entries(user)) {
    if (v === null || v === undefined) continue; // keeps the default, or stays absent
    out[k] = k in defaults ? mergeOverDefaults(defaults[k], v) : clone(v);
  }
  return out;
}

export function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isMap(v)) {
    const out: ConfMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = clone(x);
    return out;
  }
  return v;
}

/**
 * Keys written with the `::` delimiter (`processors::batch::timeout: 2s`, as `--set` and `yaml:`
 * sources produce) become nested maps, at every level, as in the Collector's confmap.
 */
export function splitDelimitedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(splitDelimitedKeys);
  if (!isMap(v)) return v;
  let out: ConfMap = {};
  for (const [k, raw] of Object.entries(v)) {
    const val = splitDelimitedKeys(raw);
    if (!k.includes('::')) {
      out = mergeConfigs(out, { [k]: val }) as ConfMap;
      continue;
    }
    const parts = k.split('::');
    let nested: unknown = val;
    for (let i = parts.length - 1; i >= 0; i--) nested = { [parts[i]!]: nested };
    out = mergeConfigs(out, nested) as ConfMap;
  }
  return out;
}

/** The value at `path`, or undefined. */
export function getPath(v: unknown, path: readonly (string | number)[]): unknown {
  let cur = v;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === 'number') cur = cur[p];
    else if (isMap(cur) && typeof p === 'string') cur = cur[p];
    else return undefined;
  }
  return cur;
}

/** Sets the value at `path` (which must exist up to its parent); returns false when it cannot. */
export function setPath(v: unknown, path: readonly (string | number)[], value: unknown): boolean {
  if (path.length === 0) return false;
  const parent = getPath(v, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') {
    parent[last] = value;
    return true;
  }
  if (isMap(parent) && typeof last === 'string') {
    parent[last] = value;
    return true;
  }
  return false;
}
