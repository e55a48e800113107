// Schema validation of every object the deploy manifests produce:
// - built-in Kubernetes kinds with `kubernetes-models` (the Kubernetes OpenAPI schemas, compiled),
// - Argo CD kinds with `@kubernetes-models/argo-cd` (Argo CD's CRD schemas),
// - the OpenTelemetry Operator's and cert-manager's kinds with the JSON schemas in deploy/schemas/ (the fields we use,
//   written from the operator's API types; unknown fields are errors there).
// kubernetes-models does not reject unknown fields, so a typo'd optional field of a built-in kind is not caught here;
// the cross-reference checks catch the ones that matter (ports, names, selectors, env).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isObj } from './yaml-files.js';

export const SCHEMA_DIR = new URL('../schemas/', import.meta.url).pathname;

type Validator = (obj: unknown) => string[];

const cache = new Map<string, Validator | null>();

function groupVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** JSON schemas in deploy/schemas/, keyed "group/version Kind" from their x-kubernetes-group-version-kind. */
function localSchemas(): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const f of readdirSync(SCHEMA_DIR).sort()) {
    if (!f.endsWith('.schema.json')) continue;
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, f), 'utf8')) as Record<string, unknown>;
    const gvk = schema['x-kubernetes-group-version-kind'];
    if (!isObj(gvk) || typeof gvk.group !== 'string' || typeof gvk.version !== 'string' || typeof gvk.kind !== 'string') {
      throw new Error(`deploy/schemas/${f}: needs x-kubernetes-group-version-kind {group, version, kind}`);
    }
    out.set(`${gvk.group}/${gvk.version} ${gvk.kind}`, schema);
  }
  return out;
}

let local: Map<string, unknown> | undefined;

function zodValidator(schema: unknown): Validator {
  const { 'x-kubernetes-group-version-kind': _gvk, $schema: _s, ...rest } = schema as Record<string, unknown>;
  const type = z.fromJSONSchema(rest as Parameters<typeof z.fromJSONSchema>[0]);
  return (obj) => {
    const r = type.safeParse(obj);
    if (r.success) return [];
    return r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  };
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

async function modelValidator(modulePath: string): Promise<Validator | null> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const kind = modulePath.slice(modulePath.lastIndexOf('/') + 1);
  const Cls = mod[kind] as ModelClass | undefined;
  if (!Cls) return null;
  return (obj) => {
    try {
      new Cls(obj).validate();
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  };
}

/** The validator for apiVersion + kind, or null when no schema is known (which the caller reports as an error). */
export async function validatorFor(apiVersion: string, kind: string): Promise<Validator | null> {
  const key = `${apiVersion} ${kind}`;
  if (cache.has(key)) return cache.get(key)!;
  const { group, version } = groupVersion(apiVersion);
  let v: Validator | null = null;
  if (!/^[A-Za-z0-9]+$/.test(kind) || !/^[a-z0-9.-]*$/.test(group) || !/^v[0-9a-z]+$/.test(version)) {
    v = null;
  } else if (group === 'argoproj.io') {
    v = await modelValidator(`@kubernetes-models/argo-cd/argoproj.io/${version}/${kind}`);
  } else if (group === '' || !group.includes('.') || group.endsWith('.k8s.io')) {
    v = await modelValidator(group === '' ? `kubernetes-models/v1/${kind}` : `kubernetes-models/${group}/${version}/${kind}`);
  } else {
    local ??= localSchemas();
    const schema = local.get(`${group}/${version} ${kind}`);
    v = schema ? zodValidator(schema) : null;
  }
  cache.set(key, v);
  return v;
}

/** Problems of one object against its schema; a missing schema is a problem too. */
export async function validateObject(obj: unknown): Promise<string[]> {
  if (!isObj(obj) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return ['not a Kubernetes object (apiVersion and kind are required)'];
  const v = await validatorFor(obj.apiVersion, obj.kind);
  if (!v) return [`no schema known for ${obj.apiVersion} ${obj.kind} (add one to deploy/schemas/)`];
  const problems = v(obj);
  const meta = obj.metadata;
  if (!isObj(meta) || typeof meta.name !== 'string' || meta.name === '') problems.push('metadata.name is required');
  else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) problems.push(`metadata.name "${meta.name}" is not a valid DNS subdomain name`);
  return problems;
}
