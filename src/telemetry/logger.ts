import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * Structured JSON logs on stdout; human-readable (pino-pretty) when stdout is a terminal.
 * Components get child loggers carrying `kind` and `name` (their id).
 */
export function createLogger(level: LevelWithSilent = 'info', opts: { pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that discards everything, for tests. */
export function nopLogger(): Logger {
  return pino({ level: 'silent' });
}
