// What deploy/image/Dockerfile builds, checked without a Docker engine: its instructions (multi-stage, Node 20,
// non-root numeric user matching the manifests, ports, volume, health check, ENTRYPOINT skua), that every file it
// copies exists and is not filtered out of the build context, and that its HEALTHCHECK script works.
// (test/deploy-package.test.ts installs and runs what the runtime stage installs.)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { find, get, loadModel, REPO_ROOT } from '../deploy/tools/model.js';

interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (buf === '' && (line === '' || line.startsWith('#'))) return;
    if (buf === '') start = i + 1;
    if (line.startsWith('#')) return;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(buf)!;
      out.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start });
      buf = '';
    }
  });
  return out;
}

interface Stage {
  from: string;
  name?: string;
  ins: Instruction[];
}

function stages(ins: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const i of ins) {
    if (i.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args)!;
      const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? '');
      out.push(m[2] ? { from, name: m[2], ins: [] } : { from, ins: [] });
    } else if (out.length === 0 && i.op === 'ARG') {
      const [k, v] = i.args.split('=');
      args.set(k!, v ?? '');
    } else out[out.length - 1]?.ins.push(i);
  }
  return { args, stages: out };
}

/** The subset of .dockerignore matching used here: `**\/x`, `x`, `*.ext`, with directories excluding their contents. */
function ignored(path: string, patterns: string[]): boolean {
  return patterns.some((p) => {
    const body = p
      .split('**/')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('(?:.*/)?');
    const re = new RegExp(`^${body}(?:/.*)?$`);
    return re.test(path);
  });
}

const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/image/Dockerfile'), 'utf8');
const parsed = stages(parseDockerfile(dockerfile));
const runtime = parsed.stages[parsed.stages.length - 1]!;
const ignore = readFileSync(join(REPO_ROOT, 'deploy/image/Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const last = (op: string): Instruction | undefined => runtime.ins.filter((i) => i.op === op).at(-1);

describe('container image (deploy/image/Dockerfile)', () => {
  test('multi-stage: a build stage, then a small Node 20 runtime', () => {
    assert.ok(parsed.stages.length >= 2);
    assert.equal(parsed.stages[0]!.name, 'build');
    assert.equal(runtime.name, 'runtime');
    assert.match(runtime.from, /^node:20-(bookworm|bullseye|trixie)-slim$|^node:20-alpine/);
    assert.match(runtime.ins.map((i) => i.args).join('\n'), /npm install --omit=dev/);
    assert.ok(runtime.ins.some((i) => i.op === 'COPY' && i.args.includes('--from=build')), 'the runtime stage takes the build stage output');
  });

  test('runs as a numeric non-root user, the one the Kubernetes manifests name', () => {
    const user = last('USER')?.args ?? '';
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    assert.ok(m, `USER must be numeric (runAsNonRoot cannot verify a name): ${user}`);
    const uid = Number(m[1]);
    assert.notEqual(uid, 0);
    const model = loadModel();
    const uids = new Set<unknown>();
    for (const objs of model.renders.values()) {
      for (const c of find(objs, 'OpenTelemetryCollector')) uids.add(get(c, 'spec', 'podSecurityContext', 'runAsUser'));
      for (const d of find(objs, 'Deployment', 'skua-collector')) uids.add(get(d, 'spec', 'template', 'spec', 'securityContext', 'runAsUser'));
    }
    assert.deepEqual([...uids], [uid]);
  });

  test('exposes Skua\'s ports, declares the data volume, has a health check and ENTRYPOINT ["skua"]', () => {
    const exposed = runtime.ins.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    assert.deepEqual(exposed.sort(), ['13133', '16686', '4317', '4318', '8888']);
    const env = runtime.ins.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    const data = /SKUA_DATA=(\S+)/.exec(env)?.[1];
    assert.ok(data, 'ENV SKUA_DATA');
    assert.match(env, /SKUA_LISTEN_HOST=0\.0\.0\.0/);
    assert.deepEqual(JSON.parse(last('VOLUME')!.args), [data]);
    assert.match(last('HEALTHCHECK')!.args, /CMD \["node", "\/opt\/skua\/healthcheck\.mjs"\]/);
    assert.deepEqual(JSON.parse(last('ENTRYPOINT')!.args), ['skua'], 'exec form, so that --config=… arguments are passed as the Operator gives them');
    assert.equal(last('CMD'), undefined, 'no CMD: arguments are the config flags');
  });

  test('every file it copies from the context exists and is not filtered out by Dockerfile.dockerignore', () => {
    const copies = parsed.stages.flatMap((s) => s.ins).filter((i) => i.op === 'COPY' && !i.args.includes('--from='));
    assert.ok(copies.length >= 3);
    for (const c of copies) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        if (src === '.') continue;
        assert.ok(existsSync(join(REPO_ROOT, src)), `line ${c.line}: ${src} exists`);
        assert.ok(!ignored(src, ignore), `line ${c.line}: ${src} is excluded from the build context`);
      }
    }
    for (const needed of ['src/cli/main.ts', 'bin/skua.js', 'tsconfig.json', 'package.json']) assert.ok(!ignored(needed, ignore), needed);
    for (const out of ['node_modules/x', 'ui/node_modules/x', 'dist/cli/main.js', '.git/HEAD', 'skua-0.1.0.tgz']) assert.ok(ignored(out, ignore), out);
  });

  test('the HEALTHCHECK script exits 0 on 200 and 1 otherwise', async () => {
    let status = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/status' ? status : 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
    const run = (u: string): Promise<number> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [join(REPO_ROOT, 'deploy/image/healthcheck.mjs')], { env: { SKUA_HEALTHCHECK_URL: u }, stdio: 'ignore' });
        child.on('close', (code) => resolve(code ?? -1));
      });
    try {
      assert.equal(await run(url), 0);
      status = 503;
      assert.equal(await run(url), 1);
      assert.equal(await run('http://127.0.0.1:1/status'), 1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('the demo image build step bundles the services without OpenTelemetry (the Operator injects it)', () => {
    const demo = readFileSync(join(REPO_ROOT, 'deploy/image/demo.Dockerfile'), 'utf8');
    const cmd = /npx (esbuild [^\n]*\\\n[^\n]*--outdir=)\/out\/services/.exec(demo);
    assert.ok(cmd, 'demo.Dockerfile bundles with esbuild');
    const out = mkdtempSync(join(tmpdir(), 'skua-demo-image-'));
    try {
      const args = cmd[1]!.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean).slice(1, -1);
      const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/esbuild'), [...args, `--outdir=${out}`], { cwd: REPO_ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      for (const svc of ['frontend', 'customer', 'driver', 'route']) {
        const js = readFileSync(join(out, `${svc}.js`), 'utf8');
        const required = new Set([...js.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
        for (const mod of required) assert.ok(mod === 'express' || mod.startsWith('node:') || /^[a-z_]+$/.test(mod), `${svc} requires ${mod}`);
        assert.ok(!js.includes('@opentelemetry/'), `${svc} bundles no OpenTelemetry code`);
      }
      // Every demo Deployment runs one of the bundled files.
      const model = loadModel();
      for (const d of find(model.renders.get('deploy/kubernetes/overlays/dev')!, 'Deployment')) {
        const c = get(d, 'spec', 'template', 'spec', 'containers', 0) as { image: string; args?: string[] };
        if (!c.image.includes('skua-demo')) continue;
        assert.ok(existsSync(join(out, (c.args ?? [])[0]!.replace('services/', ''))), `${d.metadata.name} runs ${String(c.args)}`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
