/**
 * `npm run bench [-- MODE [options]]`: runs bench/MODE.ts (default: ingest). A mode module exports
 * `run(args: string[]): Promise<void>`; modes are found by file name, so a new benchmark is one
 * new file (bench/storage.ts → `npm run bench -- storage`).
 */
import { existsSync, readdirSync } from 'node:fs';

const [mode = 'ingest', ...args] = process.argv.slice(2);
const file = new URL(`./${mode}.ts`, import.meta.url);
if (!/^[a-z][a-z0-9-]*$/.test(mode) || !existsSync(file)) {
  const modes = readdirSync(new URL('.', import.meta.url))
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3));
  console.error(`unknown benchmark "${mode}"; available: ${modes.join(', ')}`);
  process.exit(2);
}
const mod = (await import(file.href)) as { run?: (args: string[]) => Promise<void>; main?: (args: string[]) => Promise<void> };
const fn = mod.run ?? mod.main;
if (typeof fn !== 'function') {
  console.error(`bench/${mode}.ts does not export run(args)`);
  process.exit(2);
}
await fn(args);
