/**
 * Serves the built web UI (ui/dist) under the base path, as a single-page app: existing files are
 * served with their content type; other paths without a file extension get index.html (client-side
 * routes such as /search or /trace/{id}); missing assets are 404. Caching: Vite's hashed files under
 * assets/ are immutable for a year, index.html is `no-cache` (revalidated by ETag), the rest short-lived.
 * index.html gets `window.__SKUA_BASE_PATH__` (and the `ui.config_file` contents as
 * `window.__SKUA_UI_CONFIG__`) injected, so the same build works under any base_path.
 * When the UI is not built, `/` answers a small page that says so and points at the API.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { Logger } from 'pino';
import { HttpError } from './http.js';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

export interface StaticUiOptions {
  /** The directory with index.html (normally <package root>/ui/dist). */
  readonly dir: string;
  /** '' for the root, else '/prefix' (no trailing slash). */
  readonly basePath: string;
  readonly logger: Logger;
  readonly logAccess: boolean;
  /** Parsed `ui.config_file`, injected into index.html. */
  readonly uiConfig?: unknown;
}

/** Vite's content-hashed file names (name-<8+ chars hash>.ext): safe to cache forever. */
const hashed = /[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export class StaticUi {
  constructor(private readonly o: StaticUiOptions) {}

  /** Serves `relPath` (the path after the base path, starting with '/'). */
  async serve(req: IncomingMessage, res: ServerResponse, relPath: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} is not allowed`, { allow: 'GET, HEAD' });
    if (this.o.logAccess) this.o.logger.info({ method: req.method, path: req.url }, 'UI access');
    let decoded: string;
    try {
      decoded = decodeURIComponent(relPath);
    } catch {
      throw new HttpError(400, 'bad percent-encoding in the path');
    }
    if (decoded.includes('\0')) throw new HttpError(400, 'bad path');
    const indexFile = join(this.o.dir, 'index.html');
    if (!(await isFile(indexFile))) {
      if (decoded === '/' || decoded === '/index.html' || extname(decoded) === '') return this.notBuilt(req, res);
      throw new HttpError(404, 'not found');
    }
    const file = normalize(join(this.o.dir, decoded));
    if (file !== this.o.dir && !file.startsWith(this.o.dir.endsWith(sep) ? this.o.dir : this.o.dir + sep)) throw new HttpError(404, 'not found');
    if (decoded !== '/' && decoded !== '/index.html' && (await isFile(file))) return this.sendFile(req, res, file, decoded);
    if (decoded === '/' || decoded === '/index.html' || extname(decoded) === '') return this.sendIndex(req, res, indexFile);
    throw new HttpError(404, 'not found');
  }

  private async sendFile(req: IncomingMessage, res: ServerResponse, file: string, rel: string): Promise<void> {
    const st = await stat(file);
    const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const immutable = rel.startsWith('/assets/') && hashed.test(rel);
    const headers: Record<string, string> = {
      'content-type': contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      etag,
      'last-modified': st.mtime.toUTCString(),
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = String(st.size);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const s = createReadStream(file);
      s.on('error', () => {
        res.destroy();
        resolve();
      });
      s.on('end', resolve);
      s.pipe(res);
    });
  }

  private async sendIndex(req: IncomingMessage, res: ServerResponse, indexFile: string): Promise<void> {
    const html = this.inject(await readFile(indexFile, 'utf8'));
    const etag = `W/"${hashString(html)}"`;
    const headers: Record<string, string> = {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = String(Buffer.byteLength(html));
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : html);
  }

  private inject(html: string): string {
    const base = `${this.o.basePath}/`;
    let script = `window.__SKUA_BASE_PATH__=${jsonForScript(base)};`;
    if (this.o.uiConfig !== undefined) script += `window.__SKUA_UI_CONFIG__=${jsonForScript(this.o.uiConfig)};`;
    const tag = `<script>${script}</script>`;
    const m = /<head[^>]*>/i.exec(html);
    return m ? html.slice(0, m.index + m[0].length) + tag + html.slice(m.index + m[0].length) : tag + html;
  }

  private notBuilt(req: IncomingMessage, res: ServerResponse): void {
    const api = `${this.o.basePath}/api`;
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Skua</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; line-height: 1.5">
<h1>Skua</h1>
<p>The web UI was not built: <code>ui/dist</code> is missing. Build it with
<code>npx vite build --config ui/vite.config.ts</code> and reload.</p>
<p>The query API is running:</p>
<ul>
<li><a href="${api}/services">${api}/services</a> (Jaeger API v1)</li>
<li><a href="${api}/v3/services">${api}/v3/services</a> (API v3, OTLP JSON)</li>
</ul>
</body></html>
`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(html) });
    res.end(req.method === 'HEAD' ? undefined : html);
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** JSON safe inside a <script> element. */
function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16) + s.length.toString(16);
}
