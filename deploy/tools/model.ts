// Loads everything under deploy/ once: every YAML file parsed, every kustomization rendered, the standalone
// manifests, and the facts the checks share (which Skua configs exist, which Services the Operator will create).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { render, resourceId, type Resource } from './kustomize.js';
import { isObj, readYamlFile, yamlFilesUnder, type Obj } from './yaml-files.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');

/** Manifests applied by hand (README), not through a kustomization. */
export const STANDALONE = ['deploy/argocd/root-app.yaml', 'deploy/argocd/bootstrap/cluster-dev.yaml'];

export interface DeployModel {
  /** Rendered output of every kustomization under deploy/, keyed by its folder relative to the repo. */
  renders: Map<string, Resource[]>;
  /** Objects of the standalone manifests. */
  standalone: Resource[];
  /** Every YAML file under deploy/ (relative paths) and the files any render read. */
  yamlFiles: string[];
  usedFiles: Set<string>;
  readme: string;
}

export function kustomizationDirs(root = DEPLOY_DIR): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((n) => existsSync(join(d, n)))) out.push(d);
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (e !== 'node_modules' && statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

export function rel(p: string): string {
  return relative(REPO_ROOT, p);
}

export function loadModel(): DeployModel {
  const yamlFiles = yamlFilesUnder(DEPLOY_DIR).map(rel);
  // Parse every file first: a syntax error is reported for the file, whatever uses it.
  for (const f of yamlFiles) readYamlFile(join(REPO_ROOT, f), REPO_ROOT);
  const usedFiles = new Set<string>();
  const renders = new Map<string, Resource[]>();
  for (const dir of kustomizationDirs()) {
    renders.set(rel(dir), render(dir, { displayRoot: REPO_ROOT, onFileRead: (p) => usedFiles.add(rel(p)) }));
  }
  const standalone: Resource[] = [];
  for (const f of STANDALONE) {
    usedFiles.add(f);
    for (const doc of readYamlFile(join(REPO_ROOT, f), REPO_ROOT)) standalone.push(doc as Resource);
  }
  const readme = existsSync(join(DEPLOY_DIR, 'README.md')) ? readFileSync(join(DEPLOY_DIR, 'README.md'), 'utf8') : '';
  return { renders, standalone, yamlFiles, usedFiles, readme };
}

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Env = (typeof ENVIRONMENTS)[number];

export function overlay(m: DeployModel, env: string): Resource[] {
  const r = m.renders.get(`deploy/kubernetes/overlays/${env}`);
  if (!r) throw new Error(`no overlay deploy/kubernetes/overlays/${env}`);
  return r;
}

export function find(objs: Resource[], kind: string, name?: string, namespace?: string): Resource[] {
  return objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace));
}

export function wave(o: Resource): number {
  const w = o.metadata.annotations?.['argocd.argoproj.io/sync-wave'];
  if (w === undefined) return 0;
  const n = Number(w);
  if (!Number.isInteger(n)) throw new Error(`${resourceId(o)}: sync-wave "${w}" is not an integer`);
  return n;
}

export function get(o: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = o;
  for (const p of path) {
    if (typeof p === 'number') cur = Array.isArray(cur) ? cur[p] : undefined;
    else cur = isObj(cur) ? cur[p] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

export { dirname };
