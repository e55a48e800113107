#!/usr/bin/env node
// The `skua` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { existsSync } from 'node:fs';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('skua: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first');
  process.exit(1);
}
await import(main.href);
