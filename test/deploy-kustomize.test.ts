// The Kustomize renderer used by the deploy checks (deploy/tools/kustomize.ts). Expected outputs were produced with
// `kubectl kustomize` (Kustomize v5.5.0) on the same inputs; every overlay under deploy/ rendered identically to it
// when this was written.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configMapHash, parseImage, render } from '../deploy/tools/kustomize.js';
import { jsonPatch, strategicMerge } from '../deploy/tools/patch.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes files (path -> content) into a new temp folder and returns it. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'skua-kustomize-'));
  dirs.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const BASE = {
  'base/kustomization.yaml': 'resources: [r.yaml]\nnamespace: monitoring\n',
  'base/r.yaml': `apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: skua}
spec:
  image: ghcr.io/x/skua:0.1.0
  ports: [{name: a, port: 1}]
  config: {extensions: {s: {backends: {main: {memory: {max_traces: 1}}}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, labels: {app: d}}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: c, image: ghcr.io/x/skua:0.1.0, env: [{name: A, value: "1"}]}]
      volumes: [{name: cfg, configMap: {name: cfg}}]
`,
};

describe('Kustomize renderer', () => {
  test('resources, namespace, prefix, labels, images, generator hash and references, both patch kinds', () => {
    const root = tree({
      ...BASE,
      'ov/cfg.yaml': 'x: 1\n',
      'ov/kustomization.yaml': `resources: [../base]
namePrefix: p-
namespace: monitoring
labels: [{pairs: {env: dev}, includeTemplates: true}]
images: [{name: ghcr.io/x/skua, newTag: "9.9"}]
configMapGenerator: [{name: cfg, literals: ["a=<b&c>"], files: [cfg.yaml]}]
patches:
- target: {kind: OpenTelemetryCollector, name: skua}
  patch: |
    apiVersion: opentelemetry.io/v1beta1
    kind: OpenTelemetryCollector
    metadata: {name: skua}
    spec:
      ports: [{name: b, port: 2}]
      config: {extensions: {s: {backends: {main: {memory: null, clickhouse: {url: x}}}}}}
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: d}
    spec:
      template:
        spec:
          containers: [{name: c, env: [{name: B, value: "2"}]}, {name: e, image: ghcr.io/x/skua}]
- target: {kind: Deployment}
  patch: |
    - op: add
      path: /spec/template/spec/volumes/-
      value: {name: cfg2, configMap: {name: cfg}}
`,
    });
    const out = render(join(root, 'ov'));
    const byKind = Object.fromEntries(out.map((o) => [o.kind, o]));
    // ConfigMap: prefix, then Kustomize's content hash (Go JSON escaping of <, &, >).
    assert.equal(byKind.ConfigMap!.metadata.name, 'p-cfg-4gd657h2gt');
    assert.deepEqual(byKind.ConfigMap!.data, { a: '<b&c>', 'cfg.yaml': 'x: 1\n' });
    assert.equal(byKind.ConfigMap!.metadata.namespace, 'monitoring');
    // Custom resource: maps merged, null deletes, lists replaced; images untouched (not a pod spec).
    assert.deepEqual(byKind.OpenTelemetryCollector!.spec, {
      image: 'ghcr.io/x/skua:0.1.0',
      ports: [{ name: 'b', port: 2 }],
      config: { extensions: { s: { backends: { main: { clickhouse: { url: 'x' } } } } } },
    });
    assert.equal(byKind.OpenTelemetryCollector!.metadata.name, 'p-skua');
    // Deployment: merge keys (patch order first), images, labels on template not selector, renamed references.
    const d = byKind.Deployment!;
    assert.deepEqual(d.metadata, { name: 'p-d', namespace: 'monitoring', labels: { app: 'd', env: 'dev' } });
    const spec = (d.spec as { selector: unknown; template: { metadata: unknown; spec: Record<string, unknown> } });
    assert.deepEqual(spec.selector, { matchLabels: { app: 'd' } });
    assert.deepEqual(spec.template.metadata, { labels: { app: 'd', env: 'dev' } });
    assert.deepEqual(spec.template.spec.containers, [
      { name: 'c', image: 'ghcr.io/x/skua:9.9', env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] },
      { name: 'e', image: 'ghcr.io/x/skua:9.9' },
    ]);
    assert.deepEqual(spec.template.spec.volumes, [
      { name: 'cfg', configMap: { name: 'p-cfg-4gd657h2gt' } },
      { name: 'cfg2', configMap: { name: 'p-cfg-4gd657h2gt' } },
    ]);
  });

  test('the ConfigMap hash is Kustomize\'s', () => {
    assert.equal(configMapHash({ a: 'b' }), '4h2mbtbbt6');
    assert.equal(configMapHash({ a: '<b&c>', 'cfg.yaml': 'x: 1\n' }), '4gd657h2gt');
  });

  test('unsupported features and mistakes fail clearly', () => {
    const cases: [string, RegExp][] = [
      ['resources: [../base]\ncommonLabels: {a: b}\n', /field "commonLabels" is not supported.*use `labels`/],
      ['resources: [../base]\nhelmCharts: []\n', /field "helmCharts" is not supported/],
      ['resources: [https://github.com/x/y//deploy?ref=v1]\n', /remote resource .* is not supported/],
      ['resources: [../nope]\n', /resource "..\/nope" does not exist/],
      ['resources: [../base, ../base]\n', /duplicate resource/],
      ['resources: [../base]\nlabels: [{pairs: {a: b}, includeSelectors: true}]\n', /includeSelectors is not supported/],
      ['resources: [../base]\npatches: [{target: {kind: Service}, patch: "- {op: remove, path: /spec}"}]\n', /matches no resource/],
      ['resources: [../base]\npatches: [{target: {kind: Deployment}, patch: "- {op: replace, path: /spec/nope, value: 1}"}]\n', /does not exist/],
      ['resources: [../base]\npatches: [{patch: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {$patch: replace}}"}]\n', /directive \$patch/],
      ['resources: [../base]\nconfigMapGenerator: [{name: x, envs: [a.env]}]\n', /field "envs" is not supported/],
    ];
    for (const [k, expected] of cases) {
      const root = tree({ ...BASE, 'ov/kustomization.yaml': k });
      assert.throws(() => render(join(root, 'ov')), expected, k);
    }
  });

  test('strategic merge: merge keys of built-in kinds, replace for custom resources', () => {
    const svc = { spec: { ports: [{ port: 80, name: 'a' }, { port: 81, name: 'b' }] } };
    strategicMerge(svc, { spec: { ports: [{ port: 81, name: 'bb' }] } }, { apiVersion: 'v1', kind: 'Service' });
    assert.deepEqual(svc.spec.ports, [{ port: 81, name: 'bb' }, { port: 80, name: 'a' }]);
    const cr = { spec: { env: [{ name: 'A' }, { name: 'B' }] } };
    strategicMerge(cr, { spec: { env: [{ name: 'C' }] } }, { apiVersion: 'opentelemetry.io/v1beta1', kind: 'OpenTelemetryCollector' });
    assert.deepEqual(cr.spec.env, [{ name: 'C' }]);
  });

  test('JSON 6902 operations', () => {
    const doc = { a: { b: [1, 2] }, 'x/y': 1 } as Record<string, unknown>;
    jsonPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'replace', path: '/x~1y', value: 2 },
      { op: 'copy', from: '/a/b', path: '/c' },
      { op: 'move', from: '/c', path: '/d' },
      { op: 'remove', path: '/a/b/0' },
      { op: 'test', path: '/d', value: [1, 9, 2] },
    ]);
    assert.deepEqual(doc, { a: { b: [9, 2] }, 'x/y': 2, d: [1, 9, 2] });
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/d', value: [] }]), /test failed/);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/a/b/5' }]), /out of range/);
  });

  test('image references', () => {
    assert.deepEqual(parseImage('localhost:5000/skua:1.2@sha256:ab'), { name: 'localhost:5000/skua', tag: '1.2', digest: 'sha256:ab' });
    assert.deepEqual(parseImage('localhost:5000/skua'), { name: 'localhost:5000/skua' });
  });
});
