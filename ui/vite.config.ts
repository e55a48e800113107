import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// Build: `npx vite build --config ui/vite.config.ts` (from the repository root) => ui/dist.
// `base: './'` makes every asset URL relative; index.html sets <base href> at run time from the
// page's own URL, so the same files work under any `jaeger_query` base_path.
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Chromium's preload scanner fetches <script src>/<link href> before any script runs, i.e. before
 * the run-time <base href> exists, so on /base/trace/{id} it would request /base/trace/assets/…
 * (404s). Load the built entry and styles from a small inline script instead, which runs after
 * <base> is set.
 */
function runtimeBaseLoader(): Plugin {
  return {
    name: 'skua-runtime-base-loader',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const scripts: string[] = [];
        const styles: string[] = [];
        let out = html.replace(/<script type="module" crossorigin src="([^"]+)"><\/script>\s*/g, (_m, src: string) => {
          scripts.push(src);
          return '';
        });
        out = out.replace(/<link rel="stylesheet" crossorigin href="([^"]+)">\s*/g, (_m, href: string) => {
          styles.push(href);
          return '';
        });
        out = out.replace(/<link rel="modulepreload" crossorigin href="[^"]+">\s*/g, '');
        const loader =
          `<script>(function(){var d=document;` +
          styles.map((h) => `var l=d.createElement('link');l.rel='stylesheet';l.setAttribute('blocking','render');l.href=${JSON.stringify(h)};d.head.appendChild(l);`).join('') +
          scripts.map((src) => `var s=d.createElement('script');s.type='module';s.crossOrigin='';s.src=${JSON.stringify(src)};d.head.appendChild(s);`).join('') +
          `})();</script>\n  `;
        return out.replace('</head>', `${loader}</head>`);
      },
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), runtimeBaseLoader()],
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
