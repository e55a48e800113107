// A small Kustomize renderer: as much of `kustomize build` as the manifests in deploy/ use, with Kustomize's
// semantics, and a clear error for every kustomization feature it does not implement (so that a manifest that starts
// using one fails the tests instead of rendering wrongly).
//
// Supported: resources (files and directories; no remote URLs), namespace, namePrefix, nameSuffix,
// labels (pairs, includeTemplates; not includeSelectors), patches (strategic merge or JSON 6902, inline or from a
// file, with a target or matched by kind/name), patchesStrategicMerge, configMapGenerator (literals, files; hash
// suffix computed as Kustomize does, references in pod templates renamed), generatorOptions, images.
// Not supported (error): commonLabels (it rewrites selectors, including NetworkPolicy peers: use `labels`),
// commonAnnotations, patchesJson6902 (use `patches`), secretGenerator, replicas, replacements, components,
// helmCharts, crds, openapi, vars, and remote resources.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { jsonPatch, strategicMerge } from './patch.js';
import { clone, isObj, originOf, parseYamlDocs, readYamlFile, setOrigin, type Obj } from './yaml-files.js';

export interface Resource extends Obj {
  apiVersion: string;
  kind: string;
  metadata: Obj & { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'resources',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'labels',
  'patches',
  'patchesStrategicMerge',
  'configMapGenerator',
  'generatorOptions',
  'images',
]);

const UNSUPPORTED_HINTS: Record<string, string> = {
  commonLabels: 'commonLabels also rewrites selectors (Deployment, Service, NetworkPolicy peers); use `labels` with pairs',
  patchesJson6902: 'deprecated in Kustomize 5; use `patches` with a target',
  bases: 'deprecated; list the base under `resources`',
};

/** Cluster-scoped kinds: the namespace transformer leaves them alone. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'IngressClass',
  'PriorityClass',
  'ClusterIssuer',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Internal: generated objects whose name still needs the content hash (added after the whole build). */
const needsHash = new WeakSet<object>();

export function resourceId(r: Resource): string {
  const ns = r.metadata.namespace ? `${r.metadata.namespace}/` : '';
  return `${r.apiVersion} ${r.kind} ${ns}${r.metadata.name}`;
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

function versionOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}

function asResource(v: unknown, where: string): Resource {
  if (!isObj(v) || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string' || !isObj(v.metadata) || typeof v.metadata.name !== 'string') {
    throw new Error(`${where}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`);
  }
  return v as Resource;
}

function findKustomization(dir: string): string {
  for (const n of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const p = join(dir, n);
    if (existsSync(p)) return p;
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

export interface RenderOptions {
  /** Paths in messages are shown relative to this folder. */
  displayRoot?: string;
  /** Called for every file the render reads (kustomizations, resources, patches, generator files). */
  onFileRead?: (path: string) => void;
}

/** `kustomize build DIR`: the rendered objects, in the order they were accumulated. */
export function render(dir: string, opts: RenderOptions = {}): Resource[] {
  const out = renderLevel(resolve(dir), opts, []);
  finalizeHashes(out);
  return out;
}

function renderLevel(dir: string, opts: RenderOptions, stack: string[]): Resource[] {
  const show = (p: string): string => (opts.displayRoot ? relative(opts.displayRoot, p) : p);
  if (stack.includes(dir)) throw new Error(`kustomization cycle: ${[...stack, dir].map(show).join(' -> ')}`);
  const kfile = findKustomization(dir);
  opts.onFileRead?.(kfile);
  const docs = readYamlFile(kfile, opts.displayRoot);
  if (docs.length !== 1 || !isObj(docs[0])) throw new Error(`${show(kfile)}: must hold exactly one mapping`);
  const k = docs[0];
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) {
      const hint = UNSUPPORTED_HINTS[field];
      throw new Error(`${show(kfile)}: kustomization field "${field}" is not supported by this renderer${hint ? ` (${hint})` : ''}`);
    }
  }
  if (k.kind !== undefined && k.kind !== 'Kustomization') throw new Error(`${show(kfile)}: kind must be Kustomization`);

  // 1. Accumulate resources (bases are rendered with their own transformations first).
  const acc: Resource[] = [];
  for (const entry of strings(k.resources, `${show(kfile)}: resources`)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || entry.includes('?ref=') || entry.startsWith('github.com/')) {
      throw new Error(`${show(kfile)}: remote resource "${entry}" is not supported by this renderer (vendor it into the repository)`);
    }
    const p = resolve(dir, entry);
    if (!existsSync(p)) throw new Error(`${show(kfile)}: resource "${entry}" does not exist`);
    if (statSync(p).isDirectory()) {
      acc.push(...renderLevel(p, opts, [...stack, dir]));
    } else {
      opts.onFileRead?.(p);
      for (const doc of readYamlFile(p, opts.displayRoot)) acc.push(asResource(doc, show(p)));
    }
  }

  // 2. Generators.
  const genOpts = isObj(k.generatorOptions) ? k.generatorOptions : {};
  for (const g of list(k.configMapGenerator, `${show(kfile)}: configMapGenerator`)) {
    acc.push(configMapFromGenerator(g, genOpts, dir, kfile, opts));
  }

  const seen = new Map<string, Resource>();
  for (const r of acc) {
    const id = `${groupOf(r.apiVersion)} ${r.kind} ${r.metadata.namespace ?? ''} ${r.metadata.name}`;
    if (seen.has(id)) throw new Error(`${show(kfile)}: duplicate resource ${resourceId(r)} (from ${originOf(seen.get(id)!)} and ${originOf(r)})`);
    seen.set(id, r);
  }

  // 3. Transformers, in Kustomize's order: patches, namespace, prefix/suffix, labels, images.
  for (const entry of list(k.patchesStrategicMerge, `${show(kfile)}: patchesStrategicMerge`)) {
    if (typeof entry !== 'string') throw new Error(`${show(kfile)}: patchesStrategicMerge entries must be strings`);
    const text = looksLikePath(entry) ? readPatchFile(dir, entry, kfile, opts) : entry;
    for (const doc of parseYamlDocs(text, show(kfile))) applySmp(acc, doc, undefined, show(kfile));
  }
  for (const p of list(k.patches, `${show(kfile)}: patches`)) {
    if (!isObj(p)) throw new Error(`${show(kfile)}: each patches entry must be a mapping`);
    for (const key of Object.keys(p)) {
      if (!['path', 'patch', 'target', 'options'].includes(key)) throw new Error(`${show(kfile)}: patches entry field "${key}" is not supported`);
    }
    if (p.options !== undefined) throw new Error(`${show(kfile)}: patches options are not supported by this renderer`);
    const text = typeof p.path === 'string' ? readPatchFile(dir, p.path, kfile, opts) : typeof p.patch === 'string' ? p.patch : undefined;
    if (text === undefined) throw new Error(`${show(kfile)}: a patch needs "path" or "patch"`);
    const where = typeof p.path === 'string' ? `${show(kfile)} patch ${p.path}` : `${show(kfile)} inline patch`;
    const parsed = parseYamlDocs(text, where);
    const target = p.target === undefined ? undefined : isObj(p.target) ? p.target : undefined;
    if (p.target !== undefined && !target) throw new Error(`${where}: target must be a mapping`);
    if (parsed.length === 1 && Array.isArray(parsed[0])) {
      if (!target) throw new Error(`${where}: a JSON 6902 patch needs a target`);
      const matches = acc.filter((r) => matchesTarget(r, target, where));
      if (matches.length === 0) throw new Error(`${where}: target ${JSON.stringify(target)} matches no resource`);
      for (const r of matches) {
        try {
          jsonPatch(r, parsed[0]);
        } catch (err) {
          throw new Error(`${where} on ${resourceId(r)}: ${(err as Error).message}`);
        }
      }
    } else {
      for (const doc of parsed) applySmp(acc, doc, target, where);
    }
  }

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new Error(`${show(kfile)}: namespace must be a string`);
    for (const r of acc) {
      if (isClusterScoped(r.kind)) continue;
      if (r.kind === 'RoleBinding' || r.kind === 'ClusterRoleBinding') {
        throw new Error(`${show(kfile)}: namespace with ${r.kind} (subject namespaces) is not supported by this renderer`);
      }
      r.metadata.namespace = k.namespace;
    }
  }

  const prefix = optString(k.namePrefix, `${show(kfile)}: namePrefix`);
  const suffix = optString(k.nameSuffix, `${show(kfile)}: nameSuffix`);
  if (prefix || suffix) {
    const renames: Rename[] = [];
    for (const r of acc) {
      if (r.kind === 'Namespace' || r.kind === 'CustomResourceDefinition') continue;
      const from = r.metadata.name;
      r.metadata.name = `${prefix ?? ''}${from}${suffix ?? ''}`;
      renames.push({ kind: r.kind, namespace: r.metadata.namespace, from, to: r.metadata.name });
    }
    renameReferences(acc, renames);
  }

  for (const l of list(k.labels, `${show(kfile)}: labels`)) {
    if (!isObj(l) || !isObj(l.pairs)) throw new Error(`${show(kfile)}: labels entries need "pairs"`);
    for (const key of Object.keys(l)) {
      if (!['pairs', 'includeTemplates', 'includeSelectors'].includes(key)) throw new Error(`${show(kfile)}: labels field "${key}" is not supported`);
    }
    if (l.includeSelectors === true) {
      throw new Error(`${show(kfile)}: labels.includeSelectors is not supported by this renderer (selectors are immutable: keep them out of overlays)`);
    }
    const pairs = stringMap(l.pairs, `${show(kfile)}: labels.pairs`);
    for (const r of acc) {
      r.metadata.labels = { ...(r.metadata.labels ?? {}), ...pairs };
      if (l.includeTemplates === true) {
        const tmpl = podTemplateOf(r);
        if (tmpl) {
          const meta = (tmpl.metadata = isObj(tmpl.metadata) ? tmpl.metadata : {});
          meta.labels = { ...(isObj(meta.labels) ? meta.labels : {}), ...pairs };
        }
      }
    }
  }

  for (const img of list(k.images, `${show(kfile)}: images`)) {
    if (!isObj(img) || typeof img.name !== 'string') throw new Error(`${show(kfile)}: images entries need "name"`);
    for (const key of Object.keys(img)) {
      if (!['name', 'newName', 'newTag', 'digest'].includes(key)) throw new Error(`${show(kfile)}: images field "${key}" is not supported`);
    }
    for (const r of acc) for (const spec of podSpecsOf(r)) setImages(spec, img);
  }
  return acc;
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${where} must be a list of strings`);
  return v as string[];
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${where} must be a list`);
  return v;
}

function optString(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`${where} must be a string`);
  return v;
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (!isObj(v)) throw new Error(`${where} must be a mapping`);
  const out: Record<string, string> = {};
  for (const [key, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new Error(`${where}.${key} must be a string (quote it)`);
    out[key] = x;
  }
  return out;
}

function looksLikePath(s: string): boolean {
  return !s.includes('\n') && /\.ya?ml$/.test(s.trim());
}

function readPatchFile(dir: string, p: string, kfile: string, opts: RenderOptions): string {
  const full = resolve(dir, p);
  if (!existsSync(full)) throw new Error(`${opts.displayRoot ? relative(opts.displayRoot, kfile) : kfile}: patch file "${p}" does not exist`);
  opts.onFileRead?.(full);
  return readFileSync(full, 'utf8');
}

function matchesTarget(r: Resource, t: Obj, where: string): boolean {
  for (const key of Object.keys(t)) {
    if (!['group', 'version', 'kind', 'name', 'namespace'].includes(key)) {
      throw new Error(`${where}: patch target field "${key}" is not supported by this renderer`);
    }
  }
  const re = (pattern: unknown, value: string): boolean => typeof pattern !== 'string' || new RegExp(`^(?:${pattern})$`).test(value);
  return (
    re(t.group, groupOf(r.apiVersion)) &&
    re(t.version, versionOf(r.apiVersion)) &&
    re(t.kind, r.kind) &&
    re(t.name, r.metadata.name) &&
    re(t.namespace, r.metadata.namespace ?? '')
  );
}

function applySmp(acc: Resource[], doc: unknown, target: Obj | undefined, where: string): void {
  if (!isObj(doc)) throw new Error(`${where}: a strategic merge patch must be a mapping`);
  let matches: Resource[];
  if (target) {
    matches = acc.filter((r) => matchesTarget(r, target, where));
  } else {
    const meta = isObj(doc.metadata) ? doc.metadata : {};
    if (typeof doc.kind !== 'string' || typeof meta.name !== 'string') throw new Error(`${where}: an untargeted patch needs kind and metadata.name`);
    matches = acc.filter(
      (r) =>
        r.kind === doc.kind &&
        r.metadata.name === meta.name &&
        (typeof doc.apiVersion !== 'string' || groupOf(doc.apiVersion) === groupOf(r.apiVersion)) &&
        (typeof meta.namespace !== 'string' || meta.namespace === r.metadata.namespace),
    );
  }
  if (matches.length === 0) throw new Error(`${where}: patch matches no resource`);
  for (const r of matches) {
    const body = clone(doc);
    // The patch's identity fields select the target; they do not rename it.
    delete body.apiVersion;
    delete body.kind;
    if (isObj(body.metadata)) {
      delete body.metadata.name;
      delete body.metadata.namespace;
    }
    strategicMerge(r, body, { apiVersion: r.apiVersion, kind: r.kind });
  }
}

function configMapFromGenerator(g: unknown, genOpts: Obj, dir: string, kfile: string, opts: RenderOptions): Resource {
  const where = `${opts.displayRoot ? relative(opts.displayRoot, kfile) : kfile}: configMapGenerator`;
  if (!isObj(g) || typeof g.name !== 'string') throw new Error(`${where}: entries need a name`);
  for (const key of Object.keys(g)) {
    if (!['name', 'namespace', 'behavior', 'literals', 'files', 'options'].includes(key)) {
      throw new Error(`${where} "${g.name}": field "${key}" is not supported by this renderer`);
    }
  }
  if (g.behavior !== undefined && g.behavior !== 'create') throw new Error(`${where} "${g.name}": behavior "${String(g.behavior)}" is not supported`);
  const data: Record<string, string> = {};
  for (const lit of strings(g.literals, `${where} "${g.name}" literals`)) {
    const eq = lit.indexOf('=');
    if (eq <= 0) throw new Error(`${where} "${g.name}": literal "${lit}" is not KEY=VALUE`);
    let value = lit.slice(eq + 1);
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    data[lit.slice(0, eq)] = value;
  }
  for (const f of strings(g.files, `${where} "${g.name}" files`)) {
    const eq = f.indexOf('=');
    const key = eq > 0 ? f.slice(0, eq) : basename(f);
    const p = resolve(dir, eq > 0 ? f.slice(eq + 1) : f);
    if (!existsSync(p)) throw new Error(`${where} "${g.name}": file "${f}" does not exist`);
    opts.onFileRead?.(p);
    if (key in data) throw new Error(`${where} "${g.name}": key "${key}" given twice`);
    data[key] = readFileSync(p, 'utf8');
  }
  const own = isObj(g.options) ? g.options : {};
  const labels = { ...(isObj(genOpts.labels) ? (genOpts.labels as Record<string, string>) : {}), ...(isObj(own.labels) ? (own.labels as Record<string, string>) : {}) };
  const annotations = {
    ...(isObj(genOpts.annotations) ? (genOpts.annotations as Record<string, string>) : {}),
    ...(isObj(own.annotations) ? (own.annotations as Record<string, string>) : {}),
  };
  const metadata: Resource['metadata'] = { name: g.name };
  if (typeof g.namespace === 'string') metadata.namespace = g.namespace;
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const cm: Resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
  const disable = own.disableNameSuffixHash ?? genOpts.disableNameSuffixHash;
  if (disable !== true) needsHash.add(cm);
  setOrigin(cm, `${where} "${g.name}"`);
  return cm;
}

/** Go's encoding/json escapes <, >, & and U+2028/2029; Kustomize hashes that encoding. */
function goJson(v: unknown): string {
  const sorted = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sorted);
    if (isObj(x)) return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])]));
    return x;
  };
  return JSON.stringify(sorted(v)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Kustomize's ConfigMap name suffix: sha256 of {data, kind, name: ""}, first 10 hex digits with 0,1,3,a,e remapped. */
export function configMapHash(data: Record<string, string>): string {
  const hex = createHash('sha256').update(goJson({ data, kind: 'ConfigMap', name: '' })).digest('hex');
  const map: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => map[c] ?? c).join('');
}

function finalizeHashes(all: Resource[]): void {
  const renames: Rename[] = [];
  for (const r of all) {
    if (!needsHash.has(r)) continue;
    const from = r.metadata.name;
    r.metadata.name = `${from}-${configMapHash((r.data ?? {}) as Record<string, string>)}`;
    renames.push({ kind: r.kind, namespace: r.metadata.namespace, from, to: r.metadata.name });
  }
  renameReferences(all, renames);
}

interface Rename {
  kind: string;
  namespace: string | undefined;
  from: string;
  to: string;
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job), if any. */
export function podTemplateOf(r: Resource): Obj | undefined {
  const spec = isObj(r.spec) ? r.spec : undefined;
  if (!spec) return undefined;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(r.kind) && isObj(spec.template)) return spec.template;
  if (r.kind === 'CronJob' && isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) && isObj(spec.jobTemplate.spec.template)) {
    return spec.jobTemplate.spec.template;
  }
  return undefined;
}

/** Pod specs of a workload or Pod. The OpenTelemetryCollector spec has the same container-level fields. */
export function podSpecsOf(r: Resource): Obj[] {
  if (r.kind === 'Pod' && isObj(r.spec)) return [r.spec];
  const t = podTemplateOf(r);
  return t && isObj(t.spec) ? [t.spec] : [];
}

/** Volumes/env/envFrom of a workload's pod spec. Like Kustomize, custom resources (an OpenTelemetryCollector's
 * spec.volumes, say) are not looked into: a generated name referenced from one would not be updated. */
function referenceHolders(r: Resource): { volumes: unknown[]; envs: unknown[]; envFroms: unknown[] } {
  const volumes: unknown[] = [];
  const envs: unknown[] = [];
  const envFroms: unknown[] = [];
  const takeContainer = (c: unknown): void => {
    if (!isObj(c)) return;
    if (Array.isArray(c.env)) envs.push(...c.env);
    if (Array.isArray(c.envFrom)) envFroms.push(...c.envFrom);
  };
  for (const spec of podSpecsOf(r)) {
    if (Array.isArray(spec.volumes)) volumes.push(...spec.volumes);
    for (const key of ['containers', 'initContainers']) if (Array.isArray(spec[key])) (spec[key] as unknown[]).forEach(takeContainer);
  }
  return { volumes, envs, envFroms };
}

/** Renames references to ConfigMaps, Secrets, PVCs and Services after their names changed (Kustomize's nameReference). */
function renameReferences(all: Resource[], renames: Rename[]): void {
  if (renames.length === 0) return;
  const lookup = (kind: string, ns: string | undefined, name: unknown): string | undefined => {
    if (typeof name !== 'string') return undefined;
    return renames.find((x) => x.kind === kind && x.from === name && (x.namespace ?? '') === (ns ?? ''))?.to;
  };
  for (const r of all) {
    const ns = r.metadata.namespace;
    const { volumes, envs, envFroms } = referenceHolders(r);
    for (const v of volumes) {
      if (!isObj(v)) continue;
      if (isObj(v.configMap)) v.configMap.name = lookup('ConfigMap', ns, v.configMap.name) ?? v.configMap.name;
      if (isObj(v.secret)) v.secret.secretName = lookup('Secret', ns, v.secret.secretName) ?? v.secret.secretName;
      if (isObj(v.persistentVolumeClaim)) {
        v.persistentVolumeClaim.claimName = lookup('PersistentVolumeClaim', ns, v.persistentVolumeClaim.claimName) ?? v.persistentVolumeClaim.claimName;
      }
      if (isObj(v.projected) && Array.isArray(v.projected.sources)) {
        for (const s of v.projected.sources) {
          if (!isObj(s)) continue;
          if (isObj(s.configMap)) s.configMap.name = lookup('ConfigMap', ns, s.configMap.name) ?? s.configMap.name;
          if (isObj(s.secret)) s.secret.name = lookup('Secret', ns, s.secret.name) ?? s.secret.name;
        }
      }
    }
    for (const e of envs) {
      if (!isObj(e) || !isObj(e.valueFrom)) continue;
      const cm = e.valueFrom.configMapKeyRef;
      if (isObj(cm)) cm.name = lookup('ConfigMap', ns, cm.name) ?? cm.name;
      const sec = e.valueFrom.secretKeyRef;
      if (isObj(sec)) sec.name = lookup('Secret', ns, sec.name) ?? sec.name;
    }
    for (const e of envFroms) {
      if (!isObj(e)) continue;
      if (isObj(e.configMapRef)) e.configMapRef.name = lookup('ConfigMap', ns, e.configMapRef.name) ?? e.configMapRef.name;
      if (isObj(e.secretRef)) e.secretRef.name = lookup('Secret', ns, e.secretRef.name) ?? e.secretRef.name;
    }
    if (r.kind === 'Ingress' && isObj(r.spec) && Array.isArray(r.spec.rules)) {
      for (const rule of r.spec.rules) {
        const paths = isObj(rule) && isObj(rule.http) && Array.isArray(rule.http.paths) ? rule.http.paths : [];
        for (const p of paths) {
          const svc = isObj(p) && isObj(p.backend) && isObj(p.backend.service) ? p.backend.service : undefined;
          if (svc) svc.name = lookup('Service', ns, svc.name) ?? svc.name;
        }
      }
    }
  }
}

function setImages(spec: Obj, img: Obj): void {
  for (const key of ['containers', 'initContainers']) {
    const cs = spec[key];
    if (!Array.isArray(cs)) continue;
    for (const c of cs) {
      if (!isObj(c) || typeof c.image !== 'string') continue;
      const ref = parseImage(c.image);
      if (ref.name !== img.name) continue;
      const name = typeof img.newName === 'string' ? img.newName : ref.name;
      if (typeof img.digest === 'string') c.image = `${name}@${img.digest}`;
      else if (img.newTag !== undefined) c.image = `${name}:${String(img.newTag)}`;
      else c.image = `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
    }
  }
}

/** Splits an image reference into name, tag and digest (a registry port is not a tag). */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    const out: { name: string; tag?: string; digest?: string } = { name: rest.slice(0, colon), tag: rest.slice(colon + 1) };
    if (digest) out.digest = digest;
    return out;
  }
  return digest ? { name: rest, digest } : { name: rest };
}
