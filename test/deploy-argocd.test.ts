// Offline validation of deploy/argocd: sync policies, sources, the ApplicationSet generator, the app-of-apps sync
// waves (cert-manager -> Operator -> Skua), and the Lua health checks those waves wait on, run in a Lua VM against
// the states the resources go through.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../deploy/tools/argocd-checks.js';
import type { Resource } from '../deploy/tools/kustomize.js';
import { runHealthScript } from '../deploy/tools/lua-health.js';
import { DEPLOY_DIR, ENVIRONMENTS, REPO_ROOT, find, get, loadModel, wave } from '../deploy/tools/model.js';
import { clone } from '../deploy/tools/yaml-files.js';

const model = loadModel();
const root = model.renders.get('deploy/argocd/root')!;
const envApps: Record<string, Resource[]> = Object.fromEntries(ENVIRONMENTS.map((e) => [e, model.renders.get(`deploy/argocd/environments/${e}`)!]));
const allArgo = [...model.standalone, ...root, ...ENVIRONMENTS.flatMap((e) => envApps[e]!)];
const renderedDirs = new Set(model.renders.keys());
const argocdCm = find(root, 'ConfigMap', 'argocd-cm')[0]!;
const appset = find(root, 'ApplicationSet')[0]!;
const envDirs = readdirSync(join(DEPLOY_DIR, 'argocd', 'environments'));

function healthScript(key: string): string {
  const s = (argocdCm.data as Record<string, string>)[`resource.customizations.health.${key}`];
  assert.ok(s, `argocd-cm has a health check for ${key}`);
  return s;
}

describe('Argo CD manifests', () => {
  test('every Application and ApplicationSet template syncs automatically (prune, selfHeal) with the required options', () => {
    assert.deepEqual(A.checkSyncPolicies(allArgo), []);
    assert.ok(A.applicationSpecs(allArgo).length >= 11, 'root app, ApplicationSet template, 3 x 3 environment children');
    const bad = clone(envApps.prod!);
    const skua = find(bad, 'Application').find((a) => a.metadata.name === 'skua-prod')!;
    (get(skua, 'spec', 'syncPolicy', 'automated') as Record<string, unknown>).selfHeal = false;
    (get(skua, 'spec', 'syncPolicy') as Record<string, unknown>).syncOptions = ['CreateNamespace=true'];
    const problems = A.checkSyncPolicies(bad).join('\n');
    assert.match(problems, /selfHeal must be true/);
    assert.match(problems, /lacks ServerSideApply=true/);
    assert.match(problems, /lacks SkipDryRunOnMissingResource=true/);
  });

  test('git sources exist and render, one repository and revision; Helm charts are pinned', () => {
    assert.deepEqual(A.checkSources(allArgo, REPO_ROOT, renderedDirs), []);
    const bad = clone(envApps.dev!);
    const [certManager, , skua] = ['cert-manager-dev', 'opentelemetry-operator-dev', 'skua-dev'].map((n) => find(bad, 'Application', n)[0]!);
    (get(certManager, 'spec', 'source') as Record<string, unknown>).targetRevision = '1.*';
    (get(skua, 'spec', 'source') as Record<string, unknown>).path = 'deploy/kubernetes/overlays/qa';
    (get(skua, 'spec', 'source') as Record<string, unknown>).targetRevision = 'develop';
    const problems = A.checkSources([...bad, ...root], REPO_ROOT, renderedDirs).join('\n');
    assert.match(problems, /cert-manager must be pinned/);
    assert.match(problems, /overlays\/qa does not exist/);
    assert.match(problems, /different revisions/);
  });

  test('the ApplicationSet generates one Application per environment folder, each path resolving', () => {
    assert.deepEqual(A.checkApplicationSet(appset, envDirs, REPO_ROOT), []);
    assert.match(A.checkApplicationSet(appset, [...envDirs, 'qa'], REPO_ROOT).join('\n'), /selects environments \[dev, staging, prod\] but .* has \[dev, prod, qa, staging\]/);
    const bad = clone(appset);
    (get(bad, 'spec', 'template', 'spec', 'source') as Record<string, unknown>).path = 'deploy/argocd/envs/{{ index .metadata.labels "skua.io/environment" }}';
    assert.match(A.checkApplicationSet(bad, envDirs, REPO_ROOT).join('\n'), /path deploy\/argocd\/envs\/dev does not exist/);
  });

  test('each environment app of apps syncs cert-manager, then the Operator, then Skua (its overlay), on one cluster', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(A.checkEnvironmentApps(env, envApps[env]!), [], env);
    const bad = clone(envApps.staging!);
    find(bad, 'Application', 'opentelemetry-operator-staging')[0]!.metadata.annotations!['argocd.argoproj.io/sync-wave'] = '3';
    (get(find(bad, 'Application', 'skua-staging')[0], 'spec', 'destination') as Record<string, unknown>).name = 'prod';
    const problems = A.checkEnvironmentApps('staging', bad).join('\n');
    assert.match(problems, /the Operator \(wave 3\) must sync before Skua \(wave 3\)/);
    assert.match(problems, /different clusters/);
  });

  test('the root app applies the health checks before the ApplicationSet', () => {
    assert.ok(wave(argocdCm) < wave(appset));
    assert.equal(argocdCm.metadata.namespace, 'argocd');
    assert.match(String(argocdCm.metadata.annotations?.['argocd.argoproj.io/sync-options']), /Delete=false/);
  });

  test('every custom kind that a later sync wave waits on has a health check in argocd-cm', () => {
    const renders = [...ENVIRONMENTS.map((e) => model.renders.get(`deploy/kubernetes/overlays/${e}`)!), ...ENVIRONMENTS.map((e) => envApps[e]!)];
    const kinds = A.kindsNeedingHealth(renders);
    assert.deepEqual(kinds.map((k) => `${k.group}/${k.kind}`).sort(), ['argoproj.io/Application', 'opentelemetry.io/Instrumentation', 'opentelemetry.io/OpenTelemetryCollector']);
    assert.deepEqual(A.checkHealthCustomizations(argocdCm, kinds), []);
    const without = clone(argocdCm);
    delete (without.data as Record<string, string>)['resource.customizations.health.opentelemetry.io_Instrumentation'];
    assert.match(A.checkHealthCustomizations(without, kinds).join('\n'), /lacks resource.customizations.health.opentelemetry.io_Instrumentation/);
  });
});

describe('Argo CD health checks (Lua, run in fengari)', () => {
  test('Application: the child application\'s own health', () => {
    const s = healthScript('argoproj.io_Application');
    assert.equal(runHealthScript(s, { metadata: { name: 'x' } }).status, 'Progressing');
    assert.equal(runHealthScript(s, { status: { sync: { status: 'Synced' } } }).status, 'Progressing');
    assert.equal(runHealthScript(s, { status: { health: { status: 'Progressing' } } }).status, 'Progressing');
    assert.deepEqual(runHealthScript(s, { status: { health: { status: 'Degraded', message: 'crash loop' } } }), { status: 'Degraded', message: 'crash loop' });
    assert.equal(runHealthScript(s, { status: { health: { status: 'Healthy' }, sync: { status: 'Synced' } } }).status, 'Healthy');
  });

  test('OpenTelemetryCollector: healthy when all replicas are ready', () => {
    const s = healthScript('opentelemetry.io_OpenTelemetryCollector');
    const col = (statusReplicas?: string, mode = 'deployment'): unknown => ({
      spec: { mode, replicas: 3 },
      ...(statusReplicas === undefined ? {} : { status: { scale: { replicas: 3, statusReplicas } } }),
    });
    assert.equal(runHealthScript(s, col()).status, 'Progressing');
    assert.equal(runHealthScript(s, col('0/3')).status, 'Progressing');
    assert.deepEqual(runHealthScript(s, col('2/3')), { status: 'Progressing', message: '2/3 replicas ready' });
    assert.deepEqual(runHealthScript(s, col('3/3')), { status: 'Healthy', message: '3/3 replicas ready' });
    assert.equal(runHealthScript(s, col('garbage')).status, 'Progressing');
    assert.equal(runHealthScript(s, col(undefined, 'sidecar')).status, 'Healthy');
    assert.equal(runHealthScript(s, col('0/0', 'daemonset')).status, 'Healthy');
  });

  test('Instrumentation: healthy once it names an exporter endpoint', () => {
    const s = healthScript('opentelemetry.io_Instrumentation');
    for (const env of ENVIRONMENTS) {
      const inst = find(model.renders.get(`deploy/kubernetes/overlays/${env}`)!, 'Instrumentation')[0];
      assert.equal(runHealthScript(s, inst).status, 'Healthy', env);
    }
    assert.equal(runHealthScript(s, { spec: {} }).status, 'Degraded');
    assert.equal(runHealthScript(s, { spec: { exporter: { endpoint: '' } } }).status, 'Degraded');
  });

  test('a broken script is reported', () => {
    assert.throws(() => runHealthScript('hs = {status = "Healthy"', {}), /does not compile/);
    assert.throws(() => runHealthScript('return {status = obj.status.health.status}', {}), /health script failed/);
    assert.throws(() => runHealthScript('return {status = "Fine"}', {}), /not one of/);
  });
});
