// Checks of the Argo CD manifests: sync policies, sources, the ApplicationSet's generator, the app-of-apps sync
// waves and the health checks those waves depend on.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resourceId, type Resource } from './kustomize.js';
import { arr, find, get, wave } from './model.js';
import { isObj, type Obj } from './yaml-files.js';

export const REQUIRED_SYNC_OPTIONS = ['CreateNamespace=true', 'ServerSideApply=true', 'SkipDryRunOnMissingResource=true'];

/** The Application specs: Applications themselves and ApplicationSet templates. */
export function applicationSpecs(objs: Resource[]): { id: string; spec: Obj }[] {
  const out: { id: string; spec: Obj }[] = [];
  for (const a of find(objs, 'Application')) if (isObj(a.spec)) out.push({ id: resourceId(a), spec: a.spec });
  for (const s of find(objs, 'ApplicationSet')) {
    const spec = get(s, 'spec', 'template', 'spec');
    if (isObj(spec)) out.push({ id: `${resourceId(s)} template`, spec });
  }
  return out;
}

/** automated {prune, selfHeal} and the sync options issue 5 asks for, on every Application. */
export function checkSyncPolicies(objs: Resource[]): string[] {
  const problems: string[] = [];
  for (const { id, spec } of applicationSpecs(objs)) {
    if (get(spec, 'syncPolicy', 'automated', 'prune') !== true) problems.push(`${id}: syncPolicy.automated.prune must be true`);
    if (get(spec, 'syncPolicy', 'automated', 'selfHeal') !== true) problems.push(`${id}: syncPolicy.automated.selfHeal must be true`);
    const opts = get(spec, 'syncPolicy', 'syncOptions');
    for (const o of REQUIRED_SYNC_OPTIONS) {
      if (!Array.isArray(opts) || !opts.includes(o)) problems.push(`${id}: syncPolicy.syncOptions lacks ${o}`);
    }
  }
  return problems;
}

function sources(spec: Obj): Obj[] {
  return [...(isObj(spec.source) ? [spec.source] : []), ...arr(spec.sources)];
}

/**
 * Git sources from this repository point at folders that exist and render (a kustomization), all with the same
 * repoURL and targetRevision; Helm chart sources are pinned to an exact version.
 */
export function checkSources(objs: Resource[], repoRoot: string, renderedDirs: Set<string>): string[] {
  const problems: string[] = [];
  const gitRepos = new Set<string>();
  const revisions = new Set<string>();
  for (const { id, spec } of applicationSpecs(objs)) {
    for (const src of sources(spec)) {
      if (typeof src.chart === 'string') {
        if (typeof src.targetRevision !== 'string' || !/^v?\d+\.\d+\.\d+$/.test(src.targetRevision)) {
          problems.push(`${id}: Helm chart ${src.chart} must be pinned to an exact version (has ${String(src.targetRevision)})`);
        }
        continue;
      }
      if (typeof src.repoURL === 'string') gitRepos.add(src.repoURL);
      if (typeof src.targetRevision === 'string') revisions.add(src.targetRevision);
      const path = src.path;
      if (typeof path !== 'string') {
        problems.push(`${id}: git source without a path`);
        continue;
      }
      if (path.includes('{{')) continue; // templated: checked against the generator by checkApplicationSet
      if (!existsSync(join(repoRoot, path))) problems.push(`${id}: source path ${path} does not exist`);
      else if (!renderedDirs.has(path)) problems.push(`${id}: source path ${path} is not a kustomization`);
    }
  }
  if (gitRepos.size > 1) problems.push(`the Applications name different git repositories: ${[...gitRepos].join(', ')}`);
  if (revisions.size > 1) problems.push(`the Applications track different revisions: ${[...revisions].join(', ')}`);
  return problems;
}

/** The ApplicationSet's cluster selector values are exactly the environment folders, and its templated path
 * resolves to each. */
export function checkApplicationSet(appset: Resource, environmentsDirOnDisk: string[], repoRoot: string): string[] {
  const problems: string[] = [];
  const id = resourceId(appset);
  if (get(appset, 'spec', 'goTemplate') !== true) problems.push(`${id}: goTemplate must be true`);
  const opts = get(appset, 'spec', 'goTemplateOptions');
  if (!Array.isArray(opts) || !opts.includes('missingkey=error')) problems.push(`${id}: goTemplateOptions must include missingkey=error`);
  const gens = arr(get(appset, 'spec', 'generators'));
  const exprs = gens.flatMap((g) => arr(get(g, 'clusters', 'selector', 'matchExpressions')));
  const label = exprs[0]?.key;
  const values = exprs.flatMap((e) => (e.operator === 'In' && Array.isArray(e.values) ? e.values.map(String) : []));
  if (gens.length !== 1 || typeof label !== 'string' || values.length === 0) {
    problems.push(`${id}: expected one clusters generator selecting on an environment label with operator In`);
    return problems;
  }
  const onDisk = environmentsDirOnDisk.filter((e) => e !== 'base').sort();
  if (JSON.stringify([...values].sort()) !== JSON.stringify(onDisk)) {
    problems.push(`${id}: selects environments [${values.join(', ')}] but deploy/argocd/environments has [${onDisk.join(', ')}]`);
  }
  const path = get(appset, 'spec', 'template', 'spec', 'source', 'path');
  const expr = `{{ index .metadata.labels "${label}" }}`;
  if (typeof path !== 'string' || !path.includes(expr)) {
    problems.push(`${id}: template source path must contain ${expr}`);
    return problems;
  }
  for (const env of values) {
    const p = path.split(expr).join(env);
    if (!existsSync(join(repoRoot, p))) problems.push(`${id}: for ${label}=${env} the path ${p} does not exist`);
  }
  const name = get(appset, 'spec', 'template', 'metadata', 'name');
  if (typeof name !== 'string' || !name.includes(expr)) problems.push(`${id}: generated Application names must contain the environment (${expr})`);
  return problems;
}

/**
 * An environment's app of apps: cert-manager, then the OpenTelemetry Operator, then Skua, in increasing sync waves;
 * all children on one cluster; Skua from deploy/kubernetes/overlays/<env>.
 */
export function checkEnvironmentApps(env: string, objs: Resource[]): string[] {
  const problems: string[] = [];
  const apps = find(objs, 'Application');
  const byChart = (chart: string): Resource | undefined => apps.find((a) => sources(a.spec as Obj).some((s) => s.chart === chart));
  const certManager = byChart('cert-manager');
  const operator = byChart('opentelemetry-operator');
  const skua = apps.find((a) => sources(a.spec as Obj).some((s) => typeof s.path === 'string' && s.path.startsWith('deploy/kubernetes/overlays/')));
  if (!certManager || !operator || !skua) return [`${env}: needs Applications for cert-manager, opentelemetry-operator and Skua`];
  if (!(wave(certManager) < wave(operator))) problems.push(`${env}: cert-manager (wave ${wave(certManager)}) must sync before the Operator (wave ${wave(operator)}), whose webhook needs a certificate`);
  if (!(wave(operator) < wave(skua))) problems.push(`${env}: the Operator (wave ${wave(operator)}) must sync before Skua (wave ${wave(skua)}), which uses its CRDs`);
  const path = sources(skua.spec as Obj)[0]?.path;
  if (path !== `deploy/kubernetes/overlays/${env}`) problems.push(`${env}: Skua's Application deploys ${String(path)}, not deploy/kubernetes/overlays/${env}`);
  const dests = new Set(apps.map((a) => String(get(a, 'spec', 'destination', 'name') ?? get(a, 'spec', 'destination', 'server'))));
  if (dests.size !== 1) problems.push(`${env}: the children deploy to different clusters: ${[...dests].join(', ')}`);
  for (const a of apps) if (!a.metadata.name.endsWith(`-${env}`)) problems.push(`${resourceId(a)}: name must end with -${env} (names are unique in the argocd namespace)`);
  return problems;
}

/** Argo CD waits on a resource's health before the next wave only if it knows that health: every custom kind
 * used in a sync wave before others must have a health customization in argocd-cm. */
export function checkHealthCustomizations(argocdCm: Resource | undefined, kinds: { group: string; kind: string }[]): string[] {
  if (!argocdCm) return ['no argocd-cm ConfigMap with health customizations'];
  const data = (argocdCm.data ?? {}) as Record<string, string>;
  const problems: string[] = [];
  for (const k of kinds) {
    const key = `resource.customizations.health.${k.group}_${k.kind}`;
    if (typeof data[key] !== 'string' || data[key].trim() === '') problems.push(`argocd-cm lacks ${key}`);
  }
  return problems;
}

/** Custom kinds (not built into Kubernetes, so no built-in Argo CD health) that later waves depend on. */
export function kindsNeedingHealth(renders: Resource[][]): { group: string; kind: string }[] {
  const builtInHealth = new Set(['cert-manager.io/Certificate', 'cert-manager.io/ClusterIssuer', 'cert-manager.io/Issuer']);
  const out = new Map<string, { group: string; kind: string }>();
  for (const objs of renders) {
    const maxWave = Math.max(...objs.map(wave));
    for (const o of objs) {
      const slash = o.apiVersion.indexOf('/');
      const group = slash < 0 ? '' : o.apiVersion.slice(0, slash);
      if (!group.includes('.') || group.endsWith('.k8s.io')) continue;
      if (wave(o) >= maxWave) continue;
      const key = `${group}/${o.kind}`;
      if (!builtInHealth.has(key)) out.set(key, { group, kind: o.kind });
    }
  }
  return [...out.values()];
}
