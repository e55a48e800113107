/**
 * Configuration errors. Every error names the place it is about in the Collector's `::` notation
 * (`receivers::otlp::protocols::http::endpoint`), so that a user can find it in the YAML even
 * after several files and `--set` flags were merged. Validation collects ALL errors of a config
 * before anything starts; `ConfigErrors` carries the whole list.
 */

/** A path inside the configuration: map keys (strings) and list indexes (numbers). */
export type ConfPath = readonly (string | number)[];

/** `['receivers', 'otlp', 'protocols']` → `receivers::otlp::protocols`. */
export function formatPath(path: ConfPath): string {
  return path.map(String).join('::');
}

export interface ConfigError {
  /** Where the problem is; may be empty for problems with the whole config (e.g. a file that cannot be read). */
  readonly path: string;
  readonly message: string;
}

export function configError(path: ConfPath | string, message: string): ConfigError {
  return { path: typeof path === 'string' ? path : formatPath(path), message };
}

export function formatConfigError(e: ConfigError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

/** Thrown when a configuration has errors; `errors` lists every one of them. */
export class ConfigErrors extends Error {
  override readonly name = 'ConfigErrors';
  constructor(readonly errors: readonly ConfigError[]) {
    super(
      errors.length === 1
        ? `invalid configuration: ${formatConfigError(errors[0]!)}`
        : `invalid configuration (${errors.length} errors):\n${errors.map((e) => `  ${formatConfigError(e)}`).join('\n')}`,
    );
  }
}
