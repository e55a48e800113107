/**
 * The configuration resolver, after the Collector's: each `--config` value is a source URI —
 * `file:PATH` or a plain path, `env:VAR` (the variable holds YAML), `yaml:INLINE` (e.g.
 * `yaml:processors::batch::timeout: 2s`) — retrieved in order and deep-merged (maps merge, lists
 * and scalars are replaced, later wins); then every `--set key::path=value` is applied as
 * `yaml:key::path: value` (dots in the key are treated as `::`, as the Collector does); then
 * `${...}` references are expanded (see expand.ts).
 *
 * This module (with expand.ts) is the only place in Skua that reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parseDocument } from 'yaml';
import { configError, type ConfigError } from './errors.js';
import { expandConfig } from './expand.js';
import { isMap, mergeConfigs, splitDelimitedKeys, type ConfMap } from './merge.js';

export interface ResolveOptions {
  /** `--config` values, in order. */
  readonly configs: readonly string[];
  /** `--set` values (`a::b=c`), applied after all configs, in order. */
  readonly sets?: readonly string[];
  /** Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Defaults to `process.cwd()`. */
  readonly cwd?: string;
}

export interface ResolvedConfig {
  /** The merged, expanded configuration map. */
  readonly conf: ConfMap;
  readonly errors: ConfigError[];
  readonly warnings: string[];
  /** See expand.ts: original text of typed whole-value references, by `pathKey`. */
  readonly originals: Map<string, string>;
}

/** The process environment; the one read of `process.env` in Skua. */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

export function resolveConfig(opts: ResolveOptions): ResolvedConfig {
  const env = opts.env ?? processEnv();
  const cwd = opts.cwd ?? process.cwd();
  const errors: ConfigError[] = [];
  let merged: unknown = {};
  const sources = [...opts.configs];
  for (const set of opts.sets ?? []) {
    const yaml = setFlagToYaml(set);
    if (typeof yaml !== 'string') errors.push(yaml);
    else sources.push(yaml);
  }
  for (const uri of sources) {
    const got = retrieve(uri, env, cwd);
    if ('error' in got) {
      errors.push(got.error);
      continue;
    }
    merged = mergeConfigs(merged, got.conf);
  }
  const expanded = expandConfig(merged, { env, cwd });
  errors.push(...expanded.errors);
  return {
    conf: isMap(expanded.value) ? expanded.value : {},
    errors,
    warnings: expanded.warnings,
    originals: expanded.originals,
  };
}

/** `a::b=c` → `yaml:a::b: c`, exactly as the Collector's `--set` flag. */
export function setFlagToYaml(set: string): string | ConfigError {
  const eq = set.indexOf('=');
  if (eq < 0) return configError('', `--set "${set}": missing equal sign (expected --set key::path=value)`);
  const key = set.slice(0, eq).trim().replaceAll('.', '::');
  if (key === '') return configError('', `--set "${set}": missing key`);
  return `yaml:${key}: ${set.slice(eq + 1).trim()}`;
}

type Retrieved = { conf: ConfMap } | { error: ConfigError };

function retrieve(uri: string, env: Readonly<Record<string, string | undefined>>, cwd: string): Retrieved {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]+):(.*)$/s.exec(uri);
  const scheme = m ? m[1]! : '';
  const rest = m ? m[2]! : uri;
  switch (scheme) {
    case '':
      return retrieveFile(uri, cwd);
    case 'file':
      return retrieveFile(rest, cwd);
    case 'env': {
      const v = env[rest];
      if (v === undefined) return { error: configError('', `config source "${uri}": environment variable "${rest}" is not set`) };
      return parseSource(v, `config source "${uri}"`);
    }
    case 'yaml':
      return parseSource(rest, `config source "${uri}"`);
    default:
      return {
        error: configError('', `config source "${uri}": unsupported scheme "${scheme}"; use file:PATH (or a plain path), env:VAR or yaml:INLINE`),
      };
  }
}

function retrieveFile(path: string, cwd: string): Retrieved {
  if (path === '') return { error: configError('', 'config source "file:" needs a path') };
  let text: string;
  try {
    text = readFileSync(resolvePath(cwd, path), 'utf8');
  } catch (err) {
    return { error: configError('', `cannot read config file "${path}": ${(err as Error).message}`) };
  }
  return parseSource(text, `config file "${path}"`);
}

function parseSource(text: string, what: string): Retrieved {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { error: configError('', `${what}: invalid YAML${where}: ${msg}`) };
  }
  const v: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (v === null || v === undefined) return { conf: {} };
  if (!isMap(v)) return { error: configError('', `${what}: the top level must be a map (receivers, processors, exporters, extensions, service)`) };
  return { conf: splitDelimitedKeys(v) as ConfMap };
}
