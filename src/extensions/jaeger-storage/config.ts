import { z } from 'zod';
import { mergeOverDefaults, isMap } from '../../confmap/merge.js';
import type { StorageFactory } from '../../storage/api.js';

/**
 * `extensions: jaeger_storage:` — Jaeger v2's shape:
 *
 *   backends:
 *     NAME:
 *       memory: {max_traces: 100000}     # exactly one backend type per NAME
 *
 * Each backend's settings are checked by its type's own schema (from src/storage/factories.ts),
 * after that type's defaults.
 */
export interface Config {
  /** NAME → {TYPE: settings}, exactly one TYPE each. */
  readonly backends: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export function buildConfigSchema(types: readonly StorageFactory<any>[]): z.ZodType<Config> {
  const names = types.map((f) => f.type).sort();
  const supported = names.length > 0 ? names.join(', ') : '(none)';
  const shape: Record<string, z.ZodType> = {};
  for (const f of types) {
    shape[f.type] = z.preprocess((v) => mergeOverDefaults(f.createDefaultConfig(), v), f.configSchema as z.ZodType).optional();
  }
  const backend = z
    .custom<unknown>()
    .superRefine((v, ctx) => {
      if (!isMap(v)) {
        ctx.addIssue({ code: 'custom', message: `expected a map with exactly one storage type; supported storage types: ${supported}` });
        return;
      }
      const keys = Object.keys(v);
      for (const k of keys) {
        if (!names.includes(k)) ctx.addIssue({ code: 'custom', path: [k], message: `unknown storage type "${k}"; supported storage types: ${supported}` });
      }
      if (keys.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            keys.length === 0
              ? `a backend needs exactly one storage type; supported storage types: ${supported}`
              : `a backend needs exactly one storage type, found ${keys.length} (${keys.join(', ')})`,
        });
      }
    })
    .pipe(z.strictObject(shape));
  return z.strictObject({
    backends: z.record(z.string(), backend).check(
      z.refine((b) => Object.keys(b).length > 0, { message: 'at least one backend is required, e.g. backends: {some_storage: {memory: {max_traces: 100000}}}' }),
    ),
  }) as unknown as z.ZodType<Config>;
}

export function createDefaultConfig(): Config {
  return { backends: {} };
}

/** The single type of a checked backend entry. */
export function backendType(b: Readonly<Record<string, unknown>>): string {
  return Object.keys(b)[0]!;
}
