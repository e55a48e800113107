import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// Build: `npx vite build --config ui/vite.config.ts` (from the repository root) => ui/dist.
// `base: './'` makes every asset URL relative; index.html sets <base href> at run time from the
// page's own URL, so the same files work under any `jaeger_query` base_path.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: process.env.SKUA_UI_PROXY ? { '/api': process.env.SKUA_UI_PROXY } : undefined,
  },
});
