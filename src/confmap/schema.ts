/**
 * Checking a config value against a component's strict zod schema, with every problem reported at
 * its YAML path; plus the value types configs share (durations, endpoints).
 */
import { z } from 'zod';
import { configError, type ConfPath, type ConfigError } from './errors.js';
import { pathKey } from './expand.js';
import { clone, getPath, isMap, setPath } from './merge.js';

export type CheckResult<C> = { ok: true; value: C } | { ok: false; errors: ConfigError[] };

/**
 * Parses `value` with `schema`. `path` is where `value` sits in the whole config (error paths are
 * prefixed with it). `originals` (from the resolver) lets a typed `${env:X}` value that landed in a
 * string field fall back to its text, as the Collector does.
 */
export function checkSchema<C>(
  schema: z.ZodType<C>,
  value: unknown,
  path: ConfPath,
  originals?: ReadonlyMap<string, string>,
): CheckResult<C> {
  let input = value;
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = schema.safeParse(input);
    if (r.success) return { ok: true, value: r.data };
    if (originals && originals.size > 0) {
      const patched = patchOriginals(input, r.error.issues, path, originals);
      if (patched !== undefined) {
        input = patched;
        continue;
      }
    }
    return { ok: false, errors: formatIssues(r.error.issues, schema, input, path) };
  }
  return { ok: false, errors: [configError(path, 'cannot be checked')] };
}

type Issue = z.core.$ZodIssue;

function patchOriginals(input: unknown, issues: readonly Issue[], base: ConfPath, originals: ReadonlyMap<string, string>): unknown {
  let copy: unknown;
  const visit = (list: readonly Issue[], prefix: PropertyKey[]): void => {
    for (const is of list) {
      const p = [...prefix, ...is.path];
      if (is.code === 'invalid_type' && is.expected === 'string') {
        const rel = p.filter((x): x is string | number => typeof x !== 'symbol');
        const orig = originals.get(pathKey([...base, ...rel]));
        if (orig !== undefined && typeof getPath(copy ?? input, rel) !== 'string') {
          copy ??= clone(input);
          if (rel.length === 0) copy = orig;
          else setPath(copy, rel, orig);
        }
      } else if (is.code === 'invalid_union') {
        for (const branch of is.errors) visit(branch, p);
      }
    }
  };
  visit(issues, []);
  return copy;
}

function formatIssues(issues: readonly Issue[], schema: z.ZodType, input: unknown, base: ConfPath): ConfigError[] {
  const out: ConfigError[] = [];
  const visit = (list: readonly Issue[], prefix: (string | number)[]): void => {
    for (const is of list) {
      const rel = [...prefix, ...is.path.filter((x): x is string | number => typeof x !== 'symbol')];
      const at = [...base, ...rel];
      const actual = getPath(input, rel);
      switch (is.code) {
        case 'unrecognized_keys':
          for (const key of is.keys) {
            const known = knownKeys(schema, rel);
            out.push(configError([...at, key], unknownKeyMessage(key, known)));
          }
          break;
        case 'invalid_type':
          out.push(
            configError(
              at,
              actual === undefined
                ? `missing required value (expected ${is.expected})`
                : `invalid value ${show(actual)}: expected ${is.expected}, got ${kindOf(actual)}`,
            ),
          );
          break;
        case 'invalid_value':
          out.push(configError(at, `invalid value ${show(actual)}; expected one of: ${is.values.map((v) => String(v)).join(', ')}`));
          break;
        case 'invalid_union': {
          // Report the alternative that got furthest (its issues have the deepest paths), or, when
          // every alternative failed on the type itself, name all the types accepted.
          const branches = is.errors;
          const typeOnly = branches.every((b) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0);
          if (typeOnly && branches.length > 0) {
            const expected = branches.map((b) => (b[0] as z.core.$ZodIssueInvalidType).expected);
            out.push(configError(at, `invalid value ${show(actual)}: expected ${expected.join(' or ')}`));
          } else if (branches.length > 0) {
            const depth = (b: readonly Issue[]): number => Math.max(...b.map((i) => i.path.length));
            const best = [...branches].sort((a, b) => depth(b) - depth(a))[0]!;
            visit(best, rel);
          } else {
            out.push(configError(at, is.message));
          }
          break;
        }
        default: {
          const msg = is.message.replace(/^Invalid input: /, '');
          out.push(configError(at, actual !== undefined && !isMap(actual) && !Array.isArray(actual) ? `invalid value ${show(actual)}: ${lowerFirst(msg)}` : lowerFirst(msg)));
        }
      }
    }
  };
  visit(issues, []);
  return out;
}

export function unknownKeyMessage(key: string, known: readonly string[] | undefined): string {
  let msg = `unknown key "${key}"`;
  if (!known || known.length === 0) return msg;
  const close = known.filter((k) => editDistance(k, key) <= Math.max(1, Math.floor(k.length / 4)));
  if (close.length > 0) msg += `; did you mean "${close[0]}"?`;
  return `${msg} (valid keys: ${[...known].sort().join(', ')})`;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (isMap(v)) return 'map';
  return typeof v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The keys an object schema accepts at `path`, when the schema can tell (best effort). */
export function knownKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] | undefined {
  const candidates = schemasAt(schema as unknown as z.core.$ZodType, path, 0);
  const keys = new Set<string>();
  for (const s of candidates) {
    const def = unwrap(s)._zod.def;
    if (def.type === 'object') for (const k of Object.keys((def as z.core.$ZodObjectDef).shape)) keys.add(k);
  }
  return keys.size > 0 ? [...keys] : undefined;
}

function unwrap(s: z.core.$ZodType): z.core.$ZodType {
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) {
      s = def['innerType'] as z.core.$ZodType;
    } else if (def.type === 'pipe') {
      // preprocess = pipe(transform, schema); .transform() = pipe(schema, transform); a checked
      // pipe (custom → schema) has its shape on the out side.
      const out = def['out'] as z.core.$ZodType;
      s = out._zod.def.type === 'transform' ? (def['in'] as z.core.$ZodType) : out;
    } else if (def.type === 'lazy') {
      s = (def['getter'] as () => z.core.$ZodType)();
    } else return s;
  }
  return s;
}

function schemasAt(s: z.core.$ZodType, path: readonly (string | number)[], i: number): z.core.$ZodType[] {
  const u = unwrap(s);
  const def = u._zod.def as unknown as Record<string, unknown> & { type: string };
  if (def.type === 'union') return (def['options'] as z.core.$ZodType[]).flatMap((o) => schemasAt(o, path, i));
  if (def.type === 'intersection') {
    return [def['left'] as z.core.$ZodType, def['right'] as z.core.$ZodType].flatMap((o) => schemasAt(o, path, i));
  }
  if (i === path.length) return [u];
  const p = path[i]!;
  if (def.type === 'object') {
    const child = (def['shape'] as Record<string, z.core.$ZodType>)[String(p)];
    return child ? schemasAt(child, path, i + 1) : [];
  }
  if (def.type === 'record') return schemasAt(def['valueType'] as z.core.$ZodType, path, i + 1);
  if (def.type === 'array') return schemasAt(def['element'] as z.core.$ZodType, path, i + 1);
  return [];
}

// ------------------------------------------------------------------------------------------------
// Shared value types
// ------------------------------------------------------------------------------------------------

const durationRe = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const unitNs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`200ms`, `1.5s`, `1m30s`, `0`) in milliseconds; undefined when not one. */
export function parseDuration(s: string): number | undefined {
  if (s === '0' || s === '+0' || s === '-0') return 0;
  if (!durationRe.test(s)) return undefined;
  const sign = s.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of s.matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * unitNs[m[2]!]!;
  return sign * total;
}

/** Like parseDuration, for values already validated by `duration()`. */
export function durationMs(s: string): number {
  const v = parseDuration(s);
  if (v === undefined) throw new Error(`invalid duration "${s}"`);
  return v;
}

/** A config field holding a Go duration string (kept as written, so print-config shows it). */
export function duration(opts: { min?: number } = {}): z.ZodType<string> {
  return z.string().check(
    z.refine((s) => {
      const v = parseDuration(s);
      return v !== undefined && v >= (opts.min ?? 0);
    }, { message: `expected a duration such as "200ms", "5s" or "1m30s"${opts.min ? ` of at least ${opts.min}ms` : ''}` }),
  );
}

export interface HostPort {
  /** '' = every interface. */
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `:port`, `[::1]:port`; undefined when not one. */
export function parseEndpoint(s: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.%a-zA-Z]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** A `host:port` listen address. */
export function endpoint(): z.ZodType<string> {
  return z.string().check(z.refine((s) => parseEndpoint(s) !== undefined, { message: 'expected host:port (e.g. "localhost:4318" or "0.0.0.0:4318")' }));
}
