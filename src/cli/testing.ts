/**
 * Test helper: runs the real `skua` CLI as a child process (`node --import tsx src/cli/main.ts …`
 * from the repository root), collects its JSON log lines and lets a test wait for one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEnv } from '../confmap/resolver.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface SkuaProcess {
  readonly proc: ChildProcess;
  /** Parsed JSON log lines (stdout); other output lines are kept as `{ raw }`. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string[];
  /** Resolves with the first log line whose msg matches. */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** Sends SIGKILL if still running (test cleanup). */
  kill(): void;
}

export function spawnSkua(args: string[], opts: { env?: Record<string, string> } = {}): SkuaProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...processEnv(), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!text.trim()) continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { raw: text };
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => stderr.push(c));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return {
    proc,
    lines,
    stderr,
    exited,
    waitForLog(msg, timeoutMs = 20_000) {
      const match = (l: Record<string, unknown>) => (typeof msg === 'string' ? l['msg'] === msg : msg.test(String(l['msg'] ?? '')));
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for log "${String(msg)}"; stderr: ${stderr.join('')}; log: ${JSON.stringify(lines.slice(-5))}`)), timeoutMs);
        const w = {
          match,
          resolve: (l: Record<string, unknown>) => {
            clearTimeout(t);
            resolve(l);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(t);
            reject(new Error(`skua exited before logging "${String(msg)}"; stderr: ${stderr.join('')}`));
          }
        });
      });
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
