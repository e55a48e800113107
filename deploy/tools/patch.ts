// The two patch kinds Kustomize applies: strategic merge patches and JSON 6902 patches. Only what the manifests in
// deploy/ need; anything else is an error that says what is unsupported.
import { clone, isObj, type Obj } from './yaml-files.js';

/**
 * Merge keys of the built-in Kubernetes list fields that our manifests patch (the `patchMergeKey`s of the API types).
 * A list field that is not here is replaced by the patch's list, as Kubernetes does for lists without a merge key.
 * `ports` depends on where it is: container ports merge on containerPort, Service ports on port.
 */
function mergeKeyFor(path: readonly string[], kindIsBuiltIn: boolean, kind: string): string | undefined {
  if (!kindIsBuiltIn) return undefined; // custom resources: JSON merge semantics, lists are replaced
  const field = path[path.length - 1];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      if (path.includes('containers') || path.includes('initContainers')) return 'containerPort';
      if (kind === 'Service' && path.length === 2 && path[0] === 'spec') return 'port';
      return undefined;
    default:
      return undefined;
  }
}

/** True for kinds whose schema Kustomize knows (built-in API groups), where strategic merge keys apply. */
export function isBuiltInApiVersion(apiVersion: string): boolean {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return true; // core "v1"
  const group = apiVersion.slice(0, slash);
  return !group.includes('.') || group.endsWith('.k8s.io');
}

/** Removes keys whose value is null (a patch's "delete this field" inside a value that is added whole). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
    return out;
  }
  return v;
}

/**
 * Applies a strategic merge patch to `target` (mutated). Maps merge; `null` deletes a field; lists with a merge key
 * merge element by element (elements new to the list come first, as Kustomize orders them); other lists are replaced.
 * The `$patch` / `$setElementOrder` / `$retainKeys` / `$deleteFromPrimitiveList` directives are not supported.
 */
export function strategicMerge(target: Obj, patch: Obj, opts: { apiVersion: string; kind: string }, path: string[] = []): void {
  const builtIn = isBuiltInApiVersion(opts.apiVersion);
  for (const [key, pv] of Object.entries(patch)) {
    if (key.startsWith('$')) {
      throw new Error(`strategic merge directive ${key} at ${[...path, key].join('.')} is not supported by this renderer`);
    }
    const here = [...path, key];
    const tv = target[key];
    if (pv === null) {
      delete target[key];
    } else if (isObj(pv) && isObj(tv)) {
      strategicMerge(tv, pv, opts, here);
    } else if (Array.isArray(pv) && Array.isArray(tv)) {
      const mk = mergeKeyFor(here, builtIn, opts.kind);
      target[key] = mk ? mergeList(tv, pv, mk, opts, here) : withoutNulls(clone(pv));
    } else {
      target[key] = withoutNulls(clone(pv));
    }
  }
}

/** Kustomize's order: the patch's elements in the patch's order (merged into the originals they match), then the
 * original elements the patch does not mention, in their order. */
function mergeList(target: unknown[], patch: unknown[], key: string, opts: { apiVersion: string; kind: string }, path: string[]): unknown[] {
  const rest = target.map((x) => x);
  const out: unknown[] = [];
  for (const item of patch) {
    if (!isObj(item) || item[key] === undefined) {
      throw new Error(`strategic merge: element of ${path.join('.')} has no merge key "${key}"`);
    }
    if ('$patch' in item) throw new Error(`strategic merge directive $patch in ${path.join('.')} is not supported by this renderer`);
    const i = rest.findIndex((x) => isObj(x) && x[key] === item[key]);
    const existing = i >= 0 ? rest.splice(i, 1)[0] : undefined;
    if (isObj(existing)) {
      strategicMerge(existing, item, opts, path);
      out.push(existing);
    } else {
      out.push(withoutNulls(clone(item)));
    }
  }
  return [...out, ...rest];
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`JSON pointer "${p}" must start with "/"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(doc: unknown, tokens: string[], pointer: string): { parent: Obj | unknown[]; last: string } {
  if (tokens.length === 0) throw new Error(`JSON patch path "${pointer}" cannot address the whole document`);
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, pointer, false)];
    else if (isObj(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new Error(`JSON patch path "${pointer}": "${t}" does not exist`);
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw new Error(`JSON patch path "${pointer}": parent is not an object or list`);
  return { parent: cur, last: tokens[tokens.length - 1]! };
}

function arrayIndex(t: string, length: number, pointer: string, forAdd: boolean): number {
  if (t === '-' && forAdd) return length;
  if (!/^(0|[1-9][0-9]*)$/.test(t)) throw new Error(`JSON patch path "${pointer}": "${t}" is not a list index`);
  const i = Number(t);
  if (i > length || (!forAdd && i >= length)) throw new Error(`JSON patch path "${pointer}": index ${i} is out of range`);
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, pointer, false)];
    else if (isObj(cur) && t in cur) cur = cur[t];
    else throw new Error(`JSON patch path "${pointer}" does not exist`);
  }
  return cur;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const { parent, last } = resolveParent(doc, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(last, parent.length, pointer, false), 1)[0];
  if (!(last in parent)) throw new Error(`JSON patch remove: "${pointer}" does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: unknown, pointer: string, value: unknown): void {
  const { parent, last } = resolveParent(doc, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, pointer, true), 0, value);
  else parent[last] = value;
}

/** Applies RFC 6902 operations to `doc` (mutated). */
export function jsonPatch(doc: Obj, ops: unknown): void {
  if (!Array.isArray(ops)) throw new Error('a JSON 6902 patch must be a list of operations');
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new Error(`JSON 6902 operation needs "op" and "path": ${JSON.stringify(raw)}`);
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        addAt(doc, op.path, clone(op.value));
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'replace':
        getAt(doc, op.path); // must exist
        removeAt(doc, op.path);
        addAt(doc, op.path, clone(op.value));
        break;
      case 'move': {
        const v = removeAt(doc, String(op.from));
        addAt(doc, op.path, v);
        break;
      }
      case 'copy':
        addAt(doc, op.path, clone(getAt(doc, String(op.from))));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) {
          throw new Error(`JSON patch test failed at "${op.path}"`);
        }
        break;
      default:
        throw new Error(`unknown JSON 6902 op "${String((raw as Obj).op)}"`);
    }
  }
}
