/**
 * `${...}` expansion with the Collector's rules:
 * - `${env:VAR}`, `${VAR}` (env is the default scheme), `${env:VAR:-default}` (the default applies
 *   only when VAR is unset; set-but-empty stays empty), `${file:PATH}`, `${yaml:...}`;
 * - `$$` is a literal `$` (so `$${env:X}` stays `${env:X}`); a lone `$` stays as it is;
 * - a value that is exactly one `${...}` takes the YAML type of what it expands to (`port: ${env:P}`
 *   with P=8888 is the number 8888), while a reference inside a longer string is spliced in as text;
 * - expansion is not recursive: what an env var or file contains is never expanded again.
 * Nested references are resolved inside-out: `${env:A:-${env:B}}`.
 *
 * Because a typed whole value may land in a field that wants a string (a password `0123`), the
 * original text of every such value is kept in `originals` so that schema checking can fall back
 * to it (as the Collector's typed unmarshalling does).
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configError, type ConfPath, type ConfigError } from './errors.js';
import { isMap, type ConfMap } from './merge.js';

export interface ExpandOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative `${file:...}` paths are resolved against this directory. */
  readonly cwd: string;
}

export interface ExpandResult {
  readonly value: unknown;
  readonly errors: ConfigError[];
  /** Non-fatal notes (e.g. an unset env var without default). */
  readonly warnings: string[];
  /** path key (see `pathKey`) → the text a typed whole-value reference expanded from. */
  readonly originals: Map<string, string>;
}

/** The key used in `originals`. */
export function pathKey(path: ConfPath): string {
  return path.map(String).join('\u0000');
}

const envNameRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const schemeRe = /^[a-zA-Z][a-zA-Z0-9+.-]*$/;
const supportedSchemes = ['env', 'file', 'yaml'];

export function expandConfig(conf: unknown, opts: ExpandOptions): ExpandResult {
  const res: ExpandResult = { value: undefined, errors: [], warnings: [], originals: new Map() };
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') return expandValue(v, path, opts, res);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (isMap(v)) {
      const out: ConfMap = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k]);
      return out;
    }
    return v;
  };
  (res as { value: unknown }).value = walk(conf, []);
  return res;
}

/** Index of the `}` closing the `${` at `open`, or -1. */
function findClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
      continue;
    }
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
      continue;
    }
    if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function expandValue(s: string, path: ConfPath, opts: ExpandOptions, res: ExpandResult): unknown {
  if (!s.includes('$')) return s;
  if (s.startsWith('${') && findClose(s, 0) === s.length - 1) {
    const inner = expandString(s.slice(2, -1), path, opts, res);
    const raw = resolveRef(inner, path, opts, res);
    if (raw === undefined) return s;
    const typed = parseScalarOrYaml(raw);
    if (typeof typed !== 'string') res.originals.set(pathKey(path), raw);
    return typed;
  }
  return expandString(s, path, opts, res);
}

/** Expands every reference inside `s` as text. */
function expandString(s: string, path: ConfPath, opts: ExpandOptions, res: ExpandResult): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === '$') {
      out += '$';
      i++;
      continue;
    }
    if (n === '{') {
      const close = findClose(s, i);
      if (close < 0) {
        out += s.slice(i); // unterminated: literal, as the Collector leaves it
        break;
      }
      const inner = expandString(s.slice(i + 2, close), path, opts, res);
      const raw = resolveRef(inner, path, opts, res);
      out += raw === undefined ? s.slice(i, close + 1) : raw.replace(/\r?\n$/, '');
      i = close;
      continue;
    }
    out += c;
  }
  return out;
}

/** The text a reference stands for; undefined (after recording an error) when it cannot be resolved. */
function resolveRef(ref: string, path: ConfPath, opts: ExpandOptions, res: ExpandResult): string | undefined {
  const colon = ref.indexOf(':');
  let scheme = colon < 0 ? 'env' : ref.slice(0, colon);
  let rest = colon < 0 ? ref : ref.slice(colon + 1);
  // `${VAR:-default}` (shell style, no scheme) means `${env:VAR:-default}`.
  if (colon >= 0 && !supportedSchemes.includes(scheme) && envNameRe.test(scheme) && rest.startsWith('-')) {
    rest = ref;
    scheme = 'env';
  }
  if (!schemeRe.test(scheme)) {
    res.errors.push(configError(path, `invalid reference "\${${ref}}"`));
    return undefined;
  }
  switch (scheme) {
    case 'env': {
      const dflt = rest.indexOf(':-');
      const name = dflt < 0 ? rest : rest.slice(0, dflt);
      if (!envNameRe.test(name)) {
        res.errors.push(configError(path, `invalid environment variable name "${name}" in "\${${ref}}"`));
        return undefined;
      }
      const v = opts.env[name];
      if (v !== undefined) return v;
      if (dflt >= 0) return rest.slice(dflt + 2);
      res.warnings.push(`${path.map(String).join('::')}: environment variable "${name}" is not set; using ""`);
      return '';
    }
    case 'file': {
      if (rest === '') {
        res.errors.push(configError(path, `"\${file:}" needs a path`));
        return undefined;
      }
      try {
        return readFileSync(resolvePath(opts.cwd, rest), 'utf8');
      } catch (err) {
        res.errors.push(configError(path, `cannot read file "${rest}" referenced by "\${${ref}}": ${(err as Error).message}`));
        return undefined;
      }
    }
    case 'yaml':
      return rest;
    default:
      res.errors.push(
        configError(path, `unsupported scheme "${scheme}" in "\${${ref}}"; supported schemes: ${supportedSchemes.join(', ')}`),
      );
      return undefined;
  }
}

/** A whole expanded value takes its YAML type; text that is not valid YAML stays a string. */
function parseScalarOrYaml(raw: string): unknown {
  if (raw.trim() === '') return raw === '' ? null : raw;
  try {
    const v: unknown = parseYaml(raw);
    return v === undefined ? raw : v;
  } catch {
    return raw;
  }
}
