/**
 * From a resolved configuration map to a checked `ServiceConfig`. The WHOLE configuration is
 * checked and every problem is collected (each naming its YAML path) before anything is created:
 * top-level sections, component ids and types (an unknown type lists the supported ones), each
 * component's config against its factory's strict schema (after its defaults), `service.extensions`,
 * every pipeline and its references, `service.telemetry`, and the storage names components refer to.
 * A component that is configured but used nowhere is checked too, but never created.
 */
import { z } from 'zod';
import type { AnyFactory } from '../component/factory.js';
import { ComponentId, type ComponentKind } from '../component/id.js';
import { ConfigErrors, configError, formatConfigError, type ConfigError, type ConfPath } from '../confmap/errors.js';
import { isMap, mergeOverDefaults, type ConfMap } from '../confmap/merge.js';
import { resolveConfig, type ResolveOptions } from '../confmap/resolver.js';
import { checkSchema, unknownKeyMessage } from '../confmap/schema.js';
import { factoriesOf, kindSections, type Factories } from './factories.js';
import { interpretTelemetry, telemetrySchema, type TelemetryConfig } from './telemetry-config.js';

export interface ComponentConfig {
  readonly id: ComponentId;
  readonly kind: ComponentKind;
  readonly factory: AnyFactory;
  /** The checked config (defaults applied). */
  readonly config: unknown;
}

export interface PipelineConfig {
  /** `traces` or `traces/NAME`. */
  readonly id: ComponentId;
  readonly receivers: readonly ComponentId[];
  readonly processors: readonly ComponentId[];
  readonly exporters: readonly ComponentId[];
}

export interface ServiceConfig {
  /** Every configured component, by kind then id string (used or not). */
  readonly components: { readonly [K in ComponentKind]: ReadonlyMap<string, ComponentConfig> };
  /** `service.extensions`, in order. */
  readonly extensions: readonly ComponentId[];
  readonly pipelines: readonly PipelineConfig[];
  readonly telemetry: TelemetryConfig;
  /** `service.telemetry` as written (checked), for print-config. */
  readonly telemetryYaml: unknown;
  /** Notes for the log (unset env vars, ignored settings). */
  readonly warnings: readonly string[];
}

const kinds: readonly ComponentKind[] = ['receiver', 'processor', 'exporter', 'extension'];
const topLevelKeys = ['receivers', 'processors', 'exporters', 'extensions', 'connectors', 'service'];
const serviceKeys = ['extensions', 'pipelines', 'telemetry'];
const supportedSignals = ['traces'];

export interface LoadOptions extends ResolveOptions {
  readonly factories: Factories;
}

/** Resolves, expands and checks; throws `ConfigErrors` listing every problem. */
export function loadConfig(opts: LoadOptions): ServiceConfig {
  const resolved = resolveConfig(opts);
  if (resolved.errors.length > 0) throw new ConfigErrors(resolved.errors);
  return checkConfig(resolved.conf, opts.factories, resolved.originals, resolved.warnings);
}

/** Checks a resolved map (see loadConfig). */
export function checkConfig(
  conf: ConfMap,
  factories: Factories,
  originals: ReadonlyMap<string, string> = new Map(),
  warnings: readonly string[] = [],
): ServiceConfig {
  const errors: ConfigError[] = [];
  const err = (path: ConfPath, message: string) => errors.push(configError(path, message));

  for (const k of Object.keys(conf)) {
    if (k === 'connectors') {
      if (conf[k] !== null && !(isMap(conf[k]) && Object.keys(conf[k]).length === 0)) {
        err([k], 'connectors are not supported by Skua');
      }
    } else if (!topLevelKeys.includes(k)) err([k], unknownKeyMessage(k, topLevelKeys));
  }

  // Components, every kind.
  const components = {
    receiver: new Map<string, ComponentConfig>(),
    processor: new Map<string, ComponentConfig>(),
    exporter: new Map<string, ComponentConfig>(),
    extension: new Map<string, ComponentConfig>(),
  };
  for (const kind of kinds) {
    const section = kindSections[kind];
    const raw = conf[section];
    if (raw === undefined || raw === null) continue;
    if (!isMap(raw)) {
      err([section], `expected a map of ${kind} ids to their settings`);
      continue;
    }
    const available = factoriesOf(factories, kind);
    for (const [key, value] of Object.entries(raw)) {
      let id: ComponentId;
      try {
        id = ComponentId.parse(key);
      } catch (e) {
        err([section, key], (e as Error).message);
        continue;
      }
      const factory = available.get(id.type);
      if (!factory) {
        const supported = [...available.keys()].sort();
        err(
          [section, key],
          `unknown ${kind} type "${id.type}"; supported ${kind} types: ${supported.length > 0 ? supported.join(', ') : '(none)'}`,
        );
        continue;
      }
      if (value !== null && value !== undefined && !isMap(value)) {
        err([section, key], `expected a map of settings, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
        continue;
      }
      const checked = checkComponent(factory, value, [section, key], originals);
      if (!checked.ok) {
        errors.push(...checked.errors);
        continue;
      }
      components[kind].set(id.toString(), { id, kind, factory, config: checked.value });
    }
  }
  // Ids that were parsed but failed their config check must still count as "configured" so that
  // pipeline references to them do not produce a second, misleading error.
  const configuredIds = (kind: ComponentKind): Set<string> => {
    const out = new Set<string>();
    const raw = conf[kindSections[kind]];
    if (isMap(raw)) {
      for (const key of Object.keys(raw)) {
        try {
          out.add(ComponentId.parse(key).toString());
        } catch {
          /* reported above */
        }
      }
    }
    return out;
  };

  // service
  const service = conf['service'];
  const extensions: ComponentId[] = [];
  const pipelines: PipelineConfig[] = [];
  let telemetry: TelemetryConfig | undefined;
  let telemetryYaml: unknown;
  if (service === undefined || service === null) {
    err(['service'], 'missing: the service section (with at least one pipeline) is required');
  } else if (!isMap(service)) {
    err(['service'], 'expected a map with extensions, pipelines and telemetry');
  } else {
    for (const k of Object.keys(service)) if (!serviceKeys.includes(k)) err(['service', k], unknownKeyMessage(k, serviceKeys));

    // service.extensions
    const extIds = idList(service['extensions'], ['service', 'extensions'], errors);
    const extConfigured = configuredIds('extension');
    const seen = new Set<string>();
    for (const id of extIds) {
      const s = id.toString();
      if (seen.has(s)) err(['service', 'extensions'], `references extension "${s}" multiple times`);
      else if (!extConfigured.has(s)) err(['service', 'extensions'], `references extension "${s}" which is not configured`);
      seen.add(s);
      extensions.push(id);
    }

    // service.pipelines
    const rawPipelines = service['pipelines'];
    if (rawPipelines === undefined || rawPipelines === null || (isMap(rawPipelines) && Object.keys(rawPipelines).length === 0)) {
      err(['service', 'pipelines'], 'service must have at least one pipeline');
    } else if (!isMap(rawPipelines)) {
      err(['service', 'pipelines'], 'expected a map of pipeline ids (traces, traces/NAME) to their components');
    } else {
      for (const [key, value] of Object.entries(rawPipelines)) {
        const p = checkPipeline(key, value, errors, configuredIds);
        if (p) pipelines.push(p);
      }
    }

    // service.telemetry
    const t = checkSchema(telemetrySchema, service['telemetry'] ?? {}, ['service', 'telemetry'], originals);
    if (!t.ok) errors.push(...t.errors);
    else {
      const it = interpretTelemetry(t.value);
      for (const e of it.errors) err(e.path, e.message);
      telemetry = it.config;
      telemetryYaml = t.value;
    }
  }

  checkStorageReferences(components, extensions, pipelines, errors);

  if (errors.length > 0) throw new ConfigErrors(errors);
  const notes = [...warnings];
  if (telemetry && telemetry.ignored.length > 0) notes.push(`settings accepted for compatibility but not used: ${telemetry.ignored.join(', ')}`);
  return { components, extensions, pipelines, telemetry: telemetry!, telemetryYaml, warnings: notes };
}

/** Applies the factory's defaults to the user's map and checks the result. */
export function checkComponent(
  factory: AnyFactory,
  raw: unknown,
  path: ConfPath,
  originals: ReadonlyMap<string, string> = new Map(),
): { ok: true; value: unknown } | { ok: false; errors: ConfigError[] } {
  const defaults: unknown = factory.createDefaultConfig();
  let merged: unknown;
  try {
    merged = factory.unmarshal ? factory.unmarshal(raw ?? {}, defaults) : mergeOverDefaults(defaults, raw);
  } catch (e) {
    return { ok: false, errors: [configError(path, (e as Error).message)] };
  }
  const r = checkSchema(factory.configSchema as z.ZodType<unknown>, merged, path, originals);
  if (!r.ok) return r;
  const extra = factory.validate?.(r.value) ?? [];
  if (extra.length > 0) return { ok: false, errors: extra.map((m) => configError(path, m)) };
  return r;
}

function idList(v: unknown, path: ConfPath, errors: ConfigError[]): ComponentId[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push(configError(path, `expected a list of component ids, e.g. [${typeof v === 'string' ? v : 'otlp'}]`));
    return [];
  }
  const out: ComponentId[] = [];
  v.forEach((x, i) => {
    if (typeof x !== 'string') {
      errors.push(configError([...path, i], `expected a component id, got ${JSON.stringify(x)}`));
      return;
    }
    try {
      out.push(ComponentId.parse(x));
    } catch (e) {
      errors.push(configError([...path, i], (e as Error).message));
    }
  });
  return out;
}

function checkPipeline(
  key: string,
  value: unknown,
  errors: ConfigError[],
  configuredIds: (kind: ComponentKind) => Set<string>,
): PipelineConfig | undefined {
  const path = ['service', 'pipelines', key];
  let id: ComponentId;
  try {
    id = ComponentId.parse(key);
  } catch (e) {
    errors.push(configError(path, (e as Error).message.replace('component id', 'pipeline id')));
    return undefined;
  }
  if (!supportedSignals.includes(id.type)) {
    errors.push(
      configError(
        path,
        ['metrics', 'logs', 'profiles'].includes(id.type)
          ? `pipeline type "${id.type}" is not supported: Skua handles traces only`
          : `unknown pipeline type "${id.type}"; supported: ${supportedSignals.join(', ')}`,
      ),
    );
    return undefined;
  }
  if (!isMap(value)) {
    errors.push(configError(path, 'expected a map with receivers, processors and exporters'));
    return undefined;
  }
  const allowed = ['receivers', 'processors', 'exporters'];
  for (const k of Object.keys(value)) if (!allowed.includes(k)) errors.push(configError([...path, k], unknownKeyMessage(k, allowed)));
  const lists: Record<string, ComponentId[]> = {};
  const before = errors.length;
  for (const [section, kind] of [
    ['receivers', 'receiver'],
    ['processors', 'processor'],
    ['exporters', 'exporter'],
  ] as const) {
    const ids = idList(value[section], [...path, section], errors);
    lists[section] = ids;
    const configured = configuredIds(kind);
    const seen = new Set<string>();
    for (const cid of ids) {
      const s = cid.toString();
      if (seen.has(s)) errors.push(configError(path, `references ${kind} "${s}" multiple times`));
      else if (!configured.has(s)) errors.push(configError(path, `references ${kind} "${s}" which is not configured`));
      seen.add(s);
    }
  }
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  if (empty(value['receivers'])) errors.push(configError(path, 'must have at least one receiver'));
  if (empty(value['exporters'])) errors.push(configError(path, 'must have at least one exporter'));
  if (errors.length > before) return undefined;
  return { id, receivers: lists['receivers']!, processors: lists['processors']!, exporters: lists['exporters']! };
}

/**
 * Storage names are references too: `jaeger_storage_exporter.trace_storage` and the query
 * extension's `storage.traces` / `storage.traces_archive` must name a backend of an enabled
 * `jaeger_storage` extension.
 */
function checkStorageReferences(
  components: { readonly [K in ComponentKind]: ReadonlyMap<string, ComponentConfig> },
  extensions: readonly ComponentId[],
  pipelines: readonly PipelineConfig[],
  errors: ConfigError[],
): void {
  const enabled = new Set(extensions.map(String));
  const backends = new Set<string>();
  // Listed in service::extensions, even when its own config was rejected (that error is reported
  // already; its backends are then unknown, so names are not checked against them).
  const storageEnabled = extensions.some((e) => e.type === 'jaeger_storage');
  let backendsKnown = true;
  for (const e of extensions) {
    if (e.type !== 'jaeger_storage') continue;
    if (![...components.extension.values()].some((c) => c.id.toString() === e.toString())) backendsKnown = false;
  }
  for (const c of components.extension.values()) {
    if (c.id.type !== 'jaeger_storage' || !enabled.has(c.id.toString())) continue;
    const b = (c.config as { backends?: unknown }).backends;
    if (isMap(b)) for (const name of Object.keys(b)) backends.add(name);
  }
  const describe = () => (backends.size > 0 ? `configured backends: ${[...backends].sort().join(', ')}` : 'no backends are configured');
  const check = (path: ConfPath, name: unknown) => {
    if (typeof name !== 'string' || name === '') return;
    if (!storageEnabled) errors.push(configError(path, `refers to storage "${name}" but no jaeger_storage extension is listed in service::extensions`));
    else if (backendsKnown && !backends.has(name)) errors.push(configError(path, `unknown storage "${name}" (${describe()} under extensions::jaeger_storage::backends)`));
  };
  const used = new Set(pipelines.flatMap((p) => p.exporters.map(String)));
  for (const c of components.exporter.values()) {
    if (c.id.type === 'jaeger_storage_exporter' && used.has(c.id.toString())) {
      check(['exporters', c.id.toString(), 'trace_storage'], (c.config as { trace_storage?: unknown }).trace_storage);
    }
  }
  for (const c of components.extension.values()) {
    if (c.id.type !== 'jaeger_query' || !enabled.has(c.id.toString())) continue;
    const storage = (c.config as { storage?: unknown }).storage;
    if (!isMap(storage)) continue;
    for (const k of ['traces', 'traces_archive']) check(['extensions', c.id.toString(), 'storage', k], storage[k]);
  }
}

/**
 * The effective configuration: every configured component with its defaults applied, and the
 * service section, as a plain map (print-config redacts it before printing).
 */
export function effectiveConfig(cfg: ServiceConfig): ConfMap {
  const section = (kind: ComponentKind): ConfMap => {
    const out: ConfMap = {};
    for (const [k, c] of cfg.components[kind]) out[k] = c.config;
    return out;
  };
  const pipelines: ConfMap = {};
  for (const p of cfg.pipelines) {
    pipelines[p.id.toString()] = {
      receivers: p.receivers.map(String),
      processors: p.processors.map(String),
      exporters: p.exporters.map(String),
    };
  }
  return {
    receivers: section('receiver'),
    processors: section('processor'),
    exporters: section('exporter'),
    extensions: section('extension'),
    service: {
      extensions: cfg.extensions.map(String),
      pipelines,
      ...(cfg.telemetryYaml && isMap(cfg.telemetryYaml) && Object.keys(cfg.telemetryYaml).length > 0 ? { telemetry: cfg.telemetryYaml } : {}),
    },
  };
}

/** Every error of a ConfigErrors as text lines, for the CLI. */
export function errorLines(e: ConfigErrors): string[] {
  return e.errors.map(formatConfigError);
}
