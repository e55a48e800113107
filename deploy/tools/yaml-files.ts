// Reading YAML the way the deploy checks need it: every document of a file, duplicate keys and syntax errors as
// errors that name the file, and the file each object came from remembered for later messages.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Obj = Record<string, unknown>;

/** The file (and document index) an object was read from, for error messages. */
const origins = new WeakMap<object, string>();

export function originOf(o: object): string {
  return origins.get(o) ?? '(generated)';
}

export function setOrigin(o: object, where: string): void {
  origins.set(o, where);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses every document of a YAML text. Empty documents (a lone `---`) are dropped. Throws naming `where`. */
export function parseYamlDocs(text: string, where: string): unknown[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  list.forEach((doc, i) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new Error(`${where}: YAML document ${i + 1} does not parse: ${problems.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (isObj(value)) setOrigin(value, list.length > 1 ? `${where} (document ${i + 1})` : where);
    out.push(value);
  });
  return out;
}

export function readYamlFile(path: string, displayRoot?: string): unknown[] {
  const where = displayRoot ? relative(displayRoot, path) : path;
  return parseYamlDocs(readFileSync(path, 'utf8'), where);
}

/** Every *.yaml / *.yml file under `dir`, sorted. */
export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      if (e === 'node_modules') continue;
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}
