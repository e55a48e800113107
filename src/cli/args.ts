/** Command-line parsing for `skua` (flags as the Collector spells them). */

export type Command = 'run' | 'validate' | 'print-config' | 'components' | 'help' | 'version';

export interface CliArgs {
  readonly command: Command;
  readonly configs: string[];
  readonly sets: string[];
  /** print-config: yaml | json. */
  format: 'yaml' | 'json';
  /** print-config: redacted | unredacted. */
  mode: 'redacted' | 'unredacted';
  readonly ignored: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const commands: Record<string, Command> = {
  validate: 'validate',
  'print-config': 'print-config',
  'print-initial-config': 'print-config',
  components: 'components',
  help: 'help',
  version: 'version',
};

export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { command: 'run', configs: [], sets: [], format: 'yaml', mode: 'redacted', ignored: [] };
  let command: Command | undefined;
  let flagCommand: Command | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('-') ? (eq >= 0 ? a.slice(0, eq) : a) : '';
    const value = (): string => {
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      i++;
      return v;
    };
    switch (name) {
      case '':
        if (command) throw new UsageError(`unexpected argument "${a}"`);
        command = commands[a];
        if (!command) throw new UsageError(`unknown command "${a}"`);
        break;
      case '--config':
        out.configs.push(value());
        break;
      case '--set':
        out.sets.push(value());
        break;
      case '--format': {
        const v = value();
        if (v !== 'yaml' && v !== 'json') throw new UsageError(`--format must be yaml or json, not "${v}"`);
        out.format = v;
        break;
      }
      case '--mode': {
        const v = value();
        if (v !== 'redacted' && v !== 'unredacted') throw new UsageError(`--mode must be redacted or unredacted, not "${v}"`);
        out.mode = v;
        break;
      }
      case '--feature-gates':
        out.ignored.push(`--feature-gates=${value()}`);
        break;
      case '--help':
      case '-h':
        flagCommand = 'help';
        break;
      case '--version':
      case '-v':
        flagCommand ??= 'version';
        break;
      default:
        throw new UsageError(`unknown flag "${name}"`);
    }
  }
  return { ...out, command: flagCommand ?? command ?? 'run' };
}

export const usage = `Usage:
  skua [--config SOURCE]... [--set KEY::PATH=VALUE]...     run (without --config: the built-in all-in-one config)
  skua validate [--config SOURCE]... [--set ...]...        check a configuration without starting anything
  skua print-config [--config SOURCE]... [--set ...]... [--format yaml|json] [--mode redacted|unredacted]
                                                           print the effective configuration (secrets redacted)
  skua components                                          list component types, their stability and storage types
  skua --version | --help

Config sources (repeatable, deep-merged in order: maps merge, lists replace, later wins):
  --config=FILE | --config FILE | --config file:FILE       a YAML file
  --config env:VAR                                         YAML held in an environment variable
  --config 'yaml:processors::batch::timeout: 1s'           inline YAML
  --set processors::batch::timeout=1s                      one value (applied after all --config)
In the YAML: \${env:VAR}, \${VAR}, \${env:VAR:-default}, \${file:PATH}; $$ for a literal $.
Signals: SIGTERM/SIGINT stop receivers, drain batches into storage, and exit 0.
`;
