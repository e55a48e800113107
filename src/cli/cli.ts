/**
 * The `skua` command (src/cli/main.ts runs it; bin/skua.js runs the compiled main).
 * `runCli` returns the exit code; `run` stays until SIGTERM/SIGINT, then shuts down cleanly:
 * receivers stop accepting and answer their in-flight requests, batches drain into the
 * exporters, storage closes, exit 0. A fatal component error or a failed shutdown exits 1.
 */
import { stringify } from 'yaml';
import { components } from '../components.js';
import { ConfigErrors, formatConfigError } from '../confmap/errors.js';
import { redact } from '../confmap/redact.js';
import { effectiveConfig, loadConfig, type ServiceConfig } from '../service/config.js';
import type { Factories } from '../service/factories.js';
import { Service, defaultBuildInfo } from '../service/service.js';
import { storageFactories } from '../storage/factories.js';
import { allInOneConfigYaml } from './all-in-one.js';
import { parseArgs, usage, UsageError, type CliArgs } from './args.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves with the signal name when the process should stop (run only). */
  waitForSignal?(): Promise<string>;
  env?: Readonly<Record<string, string | undefined>>;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** The config sources: the --config values, or the built-in all-in-one config. */
export function configSources(args: CliArgs): string[] {
  return args.configs.length > 0 ? args.configs : [`yaml:${allInOneConfigYaml}`];
}

function load(args: CliArgs, factories: Factories, io: CliIo): ServiceConfig | undefined {
  try {
    return loadConfig({ configs: configSources(args), sets: args.sets, factories, ...(io.env ? { env: io.env } : {}) });
  } catch (err) {
    if (err instanceof ConfigErrors) {
      io.stderr(`skua: invalid configuration (${err.errors.length} error${err.errors.length === 1 ? '' : 's'}):\n`);
      for (const e of err.errors) io.stderr(`  ${formatConfigError(e)}\n`);
      return undefined;
    }
    throw err;
  }
}

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`skua: ${err.message}\n\n${usage}`);
      return 1;
    }
    throw err;
  }
  for (const i of args.ignored) io.stderr(`skua: ignoring ${i}\n`);
  const factories = components();
  switch (args.command) {
    case 'help':
      io.stdout(`skua ${defaultBuildInfo.version}: ${defaultBuildInfo.description}\n\n${usage}`);
      return 0;
    case 'version':
      io.stdout(`skua version ${defaultBuildInfo.version}\n`);
      return 0;
    case 'components':
      io.stdout(componentsYaml(factories));
      return 0;
    case 'validate': {
      const cfg = load(args, factories, io);
      if (!cfg) return 1;
      for (const w of cfg.warnings) io.stderr(`warning: ${w}\n`);
      io.stdout('configuration is valid\n');
      return 0;
    }
    case 'print-config': {
      const cfg = load(args, factories, io);
      if (!cfg) return 1;
      const conf = effectiveConfig(cfg);
      const out = args.mode === 'redacted' ? redact(conf) : conf;
      io.stdout(args.format === 'json' ? `${JSON.stringify(out, null, 2)}\n` : stringify(out, { lineWidth: 0 }));
      return 0;
    }
    case 'run':
      return run(args, factories, io);
  }
}

function componentsYaml(factories: Factories): string {
  const list = (m: ReadonlyMap<string, { type: string; stability: string; description: string }>, signal: string) =>
    [...m.values()]
      .sort((a, b) => a.type.localeCompare(b.type))
      .map((f) => ({ name: f.type, stability: { [signal]: f.stability }, description: f.description }));
  return stringify(
    {
      buildinfo: { ...defaultBuildInfo },
      receivers: list(factories.receivers, 'traces'),
      processors: list(factories.processors, 'traces'),
      exporters: list(factories.exporters, 'traces'),
      extensions: list(factories.extensions, 'extension'),
      storage: [...storageFactories]
        .sort((a, b) => a.type.localeCompare(b.type))
        .map((f) => ({ name: f.type, description: f.description })),
    },
    { lineWidth: 0 },
  );
}

async function run(args: CliArgs, factories: Factories, io: CliIo): Promise<number> {
  const cfg = load(args, factories, io);
  if (!cfg) return 1;
  let service: Service;
  try {
    service = await Service.create(cfg);
  } catch (err) {
    io.stderr(`skua: cannot create the pipelines: ${(err as Error).message}\n`);
    return 1;
  }
  const log = service.logger;
  if (args.configs.length === 0) log.info('No --config given: running the built-in all-in-one configuration (see `skua print-config`)');
  const signal = io.waitForSignal ? io.waitForSignal() : waitForSignal(log);
  const stop = signal.then((s) => ({ signal: s }));
  const startResult = await Promise.race([
    service.start().then(
      () => 'started' as const,
      (err: unknown) => err as Error,
    ),
    stop,
  ]);
  if (startResult instanceof Error) {
    await flush(log);
    return 1;
  }
  let code = 0;
  const outcome = startResult === 'started' ? await Promise.race([stop, service.fatal.then((e) => ({ fatal: e }))]) : startResult;
  if ('fatal' in outcome) code = 1;
  try {
    await service.shutdown();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'Shutdown failed');
    code = 1;
  }
  await flush(log);
  return code;
}

function waitForSignal(log: Service['logger']): Promise<string> {
  return new Promise((resolve) => {
    let received: string | undefined;
    const on = (sig: NodeJS.Signals) => {
      if (received === undefined) {
        received = sig;
        log.info({ signal: sig }, 'Received signal from OS; shutting down (receivers stop, batches drain into storage)');
        resolve(sig);
      } else if (sig === 'SIGINT') {
        log.warn('Second interrupt: exiting without finishing shutdown; data in flight may be lost');
        process.exit(130);
      } else {
        log.info({ signal: sig }, 'Shutdown already in progress');
      }
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

function flush(log: Service['logger']): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush((_err?: Error) => resolve());
    } catch {
      resolve();
    }
  });
}

