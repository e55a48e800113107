import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured JSON logs on stdout; human-readable (pino-pretty) when stdout is a terminal.
 * Components get child loggers carrying `kind` and `name` (their id).
 *
 * Writes are synchronous: the process exits right after a clean shutdown, and an asynchronous
 * destination (or a transport thread) can lose the last lines — among them the debug exporter's
 * record of the spans delivered during the drain.
 */
export function createLogger(level: LevelWithSilent = 'info', opts: { pretty?: boolean } = {}): Logger {
  const isPretty = opts.pretty ?? process.stdout.isTTY === true;
  if (isPretty) {
    return pino({ level }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 1, sync: true }));
}

/** A logger that discards everything, for tests. */
export function nopLogger(): Logger {
  return pino({ level: 'silent' });
}
