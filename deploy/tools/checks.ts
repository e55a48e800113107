// Cross-reference checks over rendered manifests. Each check takes objects and returns the problems it found (an
// empty list when all holds), so that tests can feed it both the real manifests and broken copies.
import { isClusterScoped, parseImage, podSpecsOf, podTemplateOf, resourceId, type Resource } from './kustomize.js';
import { arr, find, get, wave } from './model.js';
import { parse, stringify } from 'yaml';
import { isObj, type Obj } from './yaml-files.js';

// ---------------------------------------------------------------------------------------------------------------
// Skua configurations embedded in the manifests

export interface SkuaConfig {
  /** Where it came from, for messages. */
  where: string;
  namespace: string;
  config: Obj;
  /** The configuration as the file Skua reads (YAML). */
  text: string;
  /** The container environment Skua gets (values; Secret/ConfigMap/field references as placeholders). */
  env: Record<string, string>;
  /** The workload running it: an OpenTelemetryCollector or a Deployment. */
  owner: Resource;
}

function envOf(list: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of arr(list)) {
    if (typeof e.name !== 'string') continue;
    if (typeof e.value === 'string') env[e.name] = e.value;
    // The value comes from a Secret, ConfigMap or the pod at run time: a stand-in is enough to validate with.
    else if (isObj(e.valueFrom)) env[e.name] = `from-${e.name.toLowerCase().replace(/_/g, '-')}`;
  }
  return env;
}

/** Skua configs: OpenTelemetryCollector spec.config, and ConfigMaps a workload mounts where its --config points. */
export function skuaConfigs(objs: Resource[]): SkuaConfig[] {
  const out: SkuaConfig[] = [];
  for (const c of find(objs, 'OpenTelemetryCollector')) {
    const config = get(c, 'spec', 'config');
    if (!isObj(config)) continue;
    out.push({ where: resourceId(c), namespace: c.metadata.namespace ?? 'default', config, text: stringify(config), env: envOf(get(c, 'spec', 'env')), owner: c });
  }
  for (const w of objs) {
    for (const spec of podSpecsOf(w)) {
      for (const container of arr(spec.containers)) {
        const args = [...(Array.isArray(container.command) ? container.command : []), ...(Array.isArray(container.args) ? container.args : [])];
        const cfgArg = args.find((a): a is string => typeof a === 'string' && a.startsWith('--config='));
        if (!cfgArg) continue;
        const path = cfgArg.slice('--config='.length);
        const mount = arr(container.volumeMounts).find((m) => typeof m.mountPath === 'string' && path.startsWith(`${m.mountPath}/`));
        const vol = mount && arr(spec.volumes).find((v) => v.name === mount.name);
        const cmName = vol ? get(vol, 'configMap', 'name') : undefined;
        const key = mount ? path.slice(String(mount.mountPath).length + 1) : undefined;
        const cm = typeof cmName === 'string' ? find(objs, 'ConfigMap', cmName, w.metadata.namespace)[0] : undefined;
        const text = cm && key ? get(cm, 'data', key) : undefined;
        if (typeof text !== 'string') {
          out.push({ where: `${resourceId(w)} (${cfgArg}: no ConfigMap key found)`, namespace: w.metadata.namespace ?? 'default', config: {}, text: '', env: {}, owner: w });
          continue;
        }
        const parsed: unknown = parse(text);
        out.push({
          where: `${resourceId(w)} ${cfgArg} from ${resourceId(cm!)}`,
          namespace: w.metadata.namespace ?? 'default',
          config: isObj(parsed) ? parsed : {},
          text,
          env: envOf(container.env),
          owner: w,
        });
      }
    }
  }
  return out;
}

/** `${env:NAME}` / `${NAME}` references without a default must be set in the container's environment. */
export function checkEnvReferences(cfgText: string, env: Record<string, string>, where: string): string[] {
  const problems: string[] = [];
  const re = /(?<!\$)\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g;
  for (const m of cfgText.matchAll(re)) {
    if (m[2] !== undefined) continue;
    if (!(m[1]! in env)) problems.push(`${where}: the config uses \${env:${m[1]}} but the container sets no ${m[1]}`);
  }
  return problems;
}

/** Credentials are never written into a Skua config: passwords come from ${env:...} or ${file:...}. */
export function checkNoInlineCredentials(config: unknown, where: string, path: string[] = []): string[] {
  const problems: string[] = [];
  if (isObj(config)) {
    for (const [k, v] of Object.entries(config)) {
      if (/^(password|secret|token|api_key)$/i.test(k) && typeof v === 'string' && !/^\$\{(env|file):[^}]+\}$/.test(v)) {
        problems.push(`${where}: ${[...path, k].join('::')} is written inline; take it from a Secret through \${env:VAR}`);
      }
      problems.push(...checkNoInlineCredentials(v, where, [...path, k]));
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Services: the ones in the manifests and the ones the OpenTelemetry Operator creates

export interface ServicePortModel {
  name: string;
  port: number;
  /** What the traffic reaches in the pod: a container port number. */
  targetPort: number;
}

export interface ServiceModel {
  name: string;
  namespace: string;
  ports: ServicePortModel[];
  /** The workload behind it, if known. */
  backend?: Resource;
  generatedBy?: Resource;
}

function endpointPort(ep: unknown): number | undefined {
  if (typeof ep !== 'string') return undefined;
  const m = /:(\d+)$/.exec(ep);
  return m ? Number(m[1]) : undefined;
}

/** The Service `<name>-collector` the Operator creates for an OpenTelemetryCollector (ports from the OTLP receiver,
 * the jaeger_query extension and spec.ports, as the Operator's port parsers derive them). */
export function operatorService(c: Resource): ServiceModel {
  const ports: ServicePortModel[] = [];
  const add = (name: string, port: number | undefined): void => {
    if (port !== undefined && !ports.some((p) => p.port === port)) ports.push({ name, port, targetPort: port });
  };
  const cfg = get(c, 'spec', 'config');
  add('otlp-grpc', endpointPort(get(cfg, 'receivers', 'otlp', 'protocols', 'grpc', 'endpoint')));
  add('otlp-http', endpointPort(get(cfg, 'receivers', 'otlp', 'protocols', 'http', 'endpoint')));
  add('jaeger-query', endpointPort(get(cfg, 'extensions', 'jaeger_query', 'http', 'endpoint')));
  for (const p of arr(get(c, 'spec', 'ports'))) {
    if (typeof p.port === 'number') add(String(p.name), typeof p.targetPort === 'number' ? p.targetPort : p.port);
  }
  return { name: `${c.metadata.name}-collector`, namespace: c.metadata.namespace ?? 'default', ports, backend: c, generatedBy: c };
}

function selectorMatches(selector: unknown, labels: Record<string, string> | undefined): boolean {
  if (!isObj(selector) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function services(objs: Resource[]): ServiceModel[] {
  const out: ServiceModel[] = [];
  for (const s of find(objs, 'Service')) {
    const selector = get(s, 'spec', 'selector');
    const backend = objs.find((w) => {
      const t = podTemplateOf(w);
      return t !== undefined && w.metadata.namespace === s.metadata.namespace && selectorMatches(selector, get(t, 'metadata', 'labels') as Record<string, string>);
    });
    const ports: ServicePortModel[] = [];
    for (const p of arr(get(s, 'spec', 'ports'))) {
      if (typeof p.port !== 'number') continue;
      let target: number | undefined = typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.port : undefined;
      if (typeof p.targetPort === 'string' && backend) {
        for (const spec of podSpecsOf(backend)) {
          for (const c of arr(spec.containers)) {
            const cp = arr(c.ports).find((x) => x.name === p.targetPort);
            if (cp && typeof cp.containerPort === 'number') target = cp.containerPort;
          }
        }
      }
      if (target !== undefined) ports.push({ name: String(p.name ?? ''), port: p.port, targetPort: target });
    }
    const model: ServiceModel = { name: s.metadata.name, namespace: s.metadata.namespace ?? 'default', ports };
    if (backend) model.backend = backend;
    out.push(model);
  }
  for (const c of find(objs, 'OpenTelemetryCollector')) out.push(operatorService(c));
  return out;
}

/** Resolves `http(s)://host:port` as cluster DNS does: svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local. */
export function resolveServiceUrl(url: string, fromNamespace: string, all: ServiceModel[]): { service?: ServiceModel; port?: ServicePortModel; problem?: string } {
  const m = /^(https?):\/\/([^/:]+):(\d+)\/?$/.exec(url);
  if (!m) return { problem: `"${url}" is not http(s)://host:port` };
  const parts = m[2]!.split('.');
  const name = parts[0]!;
  let ns = fromNamespace;
  if (parts.length >= 2) ns = parts[1]!;
  const tail = parts.slice(2).join('.');
  if (!['', 'svc', 'svc.cluster.local'].includes(tail)) return { problem: `"${m[2]}" is not a cluster Service name` };
  const service = all.find((s) => s.name === name && s.namespace === ns);
  if (!service) return { problem: `no Service ${ns}/${name} (neither in the manifests nor created by the Operator)` };
  const port = service.ports.find((p) => p.port === Number(m[3]));
  if (!port) return { service, problem: `Service ${ns}/${name} has no port ${m[3]} (it has ${service.ports.map((p) => p.port).join(', ')})` };
  return { service, port };
}

// ---------------------------------------------------------------------------------------------------------------
// What listens on a Skua pod port: a Skua OTLP receiver, or the TLS sidecar in front of one

export interface Listener {
  protocol: 'grpc' | 'http' | 'other';
  tls: boolean;
  via: string;
}

function nginxStreamRoutes(conf: string): Map<number, number> {
  const routes = new Map<number, number>();
  for (const block of conf.split(/\bserver\s*\{/).slice(1)) {
    const listen = /listen\s+(\d+)\s+ssl\s*;/.exec(block);
    const pass = /proxy_pass\s+127\.0\.0\.1:(\d+)\s*;/.exec(block);
    if (listen && pass) routes.set(Number(listen[1]), Number(pass[1]));
  }
  return routes;
}

/** What a connection to `port` of the Skua pods owned by `owner` reaches. */
export function listenerOn(owner: Resource, port: number, objs: Resource[], configs: SkuaConfig[]): Listener | undefined {
  const cfg = configs.find((c) => c.owner === owner)?.config;
  const receivers = (c: Obj | undefined): { grpc?: number; http?: number } => ({
    grpc: endpointPort(get(c, 'receivers', 'otlp', 'protocols', 'grpc', 'endpoint')),
    http: endpointPort(get(c, 'receivers', 'otlp', 'protocols', 'http', 'endpoint')),
  });
  const direct = (p: number, tls: boolean, via: string): Listener | undefined => {
    const r = receivers(cfg);
    const host = (proto: 'grpc' | 'http'): string => String(get(cfg, 'receivers', 'otlp', 'protocols', proto, 'endpoint'));
    if (r.grpc === p) return { protocol: 'grpc', tls, via: `${via}Skua OTLP gRPC receiver ${host('grpc')}` };
    if (r.http === p) return { protocol: 'http', tls, via: `${via}Skua OTLP/HTTP receiver ${host('http')}` };
    return undefined;
  };
  // A sidecar that terminates TLS (the prod overlay): nginx stream servers `listen P ssl; proxy_pass 127.0.0.1:Q`.
  const sidecars = owner.kind === 'OpenTelemetryCollector' ? arr(get(owner, 'spec', 'additionalContainers')) : [];
  for (const s of sidecars) {
    if (!arr(s.ports).some((p) => p.containerPort === port)) continue;
    const volumes = arr(get(owner, 'spec', 'volumes'));
    for (const vm of arr(s.volumeMounts)) {
      const cmName = get(volumes.find((v) => v.name === vm.name), 'configMap', 'name');
      const cm = typeof cmName === 'string' ? find(objs, 'ConfigMap', cmName, owner.metadata.namespace)[0] : undefined;
      for (const text of Object.values((cm?.data ?? {}) as Record<string, string>)) {
        const target = nginxStreamRoutes(text).get(port);
        if (target === undefined) continue;
        const r = receivers(cfg);
        const loopbackOnly = [r.grpc, r.http].includes(target);
        if (!loopbackOnly) return { protocol: 'other', tls: true, via: `sidecar ${String(s.name)} -> 127.0.0.1:${target}, where no Skua receiver listens` };
        return direct(target, true, `sidecar ${String(s.name)} (TLS) -> `);
      }
    }
    return { protocol: 'other', tls: false, via: `sidecar ${String(s.name)}` };
  }
  return direct(port, false, '');
}

// ---------------------------------------------------------------------------------------------------------------
// Instrumentation: endpoint, protocol, injection, waves

const LANG_SECTION: Record<string, string> = { nodejs: 'nodejs', dotnet: 'dotnet', java: 'java', python: 'python', go: 'go' };

function envValue(inst: Resource, lang: string | undefined, name: string): string | undefined {
  const fromList = (l: unknown): string | undefined => {
    const e = arr(l).find((x) => x.name === name);
    return typeof e?.value === 'string' ? e.value : undefined;
  };
  return (lang ? fromList(get(inst, 'spec', lang, 'env')) : undefined) ?? fromList(get(inst, 'spec', 'env'));
}

/**
 * Every Instrumentation's exporter endpoint names a Service and port that exist (or that the Operator creates),
 * the port leads to a Skua OTLP receiver of the protocol the SDKs will speak (OTEL_EXPORTER_OTLP_PROTOCOL, whose
 * Node.js and .NET default is http/protobuf: port 4318 goes with http/*, 4317 with grpc), and the URL scheme
 * matches whether that port is TLS.
 */
export function checkInstrumentationEndpoints(objs: Resource[]): string[] {
  const problems: string[] = [];
  const all = services(objs);
  const configs = skuaConfigs(objs);
  for (const inst of find(objs, 'Instrumentation')) {
    const id = resourceId(inst);
    const url = get(inst, 'spec', 'exporter', 'endpoint');
    if (typeof url !== 'string') {
      problems.push(`${id}: spec.exporter.endpoint is not set`);
      continue;
    }
    const r = resolveServiceUrl(url, inst.metadata.namespace ?? 'default', all);
    if (r.problem || !r.service || !r.port) {
      problems.push(`${id}: exporter endpoint ${url}: ${r.problem}`);
      continue;
    }
    const backend = r.service.backend;
    const listener = backend ? listenerOn(backend, r.port.targetPort, objs, configs) : undefined;
    if (!listener || listener.protocol === 'other') {
      problems.push(`${id}: exporter endpoint ${url} reaches port ${r.port.targetPort} of ${backend ? resourceId(backend) : 'no known workload'}, where no Skua OTLP receiver listens${listener ? ` (${listener.via})` : ''}`);
      continue;
    }
    const scheme = url.startsWith('https:') ? 'https' : 'http';
    if ((scheme === 'https') !== listener.tls) {
      problems.push(`${id}: exporter endpoint ${url} uses ${scheme} but port ${r.port.port} is ${listener.tls ? 'TLS' : 'plaintext'} (${listener.via})`);
    }
    for (const lang of ['nodejs', 'dotnet', undefined]) {
      if (lang && get(inst, 'spec', lang) === undefined) continue;
      const protocol = envValue(inst, lang, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? envValue(inst, lang, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
      const wants = protocol === 'grpc' ? 'grpc' : 'http';
      if (wants !== listener.protocol) {
        problems.push(`${id}${lang ? ` (${lang})` : ''}: the SDK speaks ${protocol} but ${url} reaches the ${listener.via}`);
      }
      const wellKnown = r.port.port === 4318 ? 'http' : r.port.port === 4317 ? 'grpc' : undefined;
      if (wellKnown && wellKnown !== wants) problems.push(`${id}${lang ? ` (${lang})` : ''}: port ${r.port.port} goes with ${wellKnown === 'http' ? 'http/protobuf' : 'grpc'}, not ${protocol}`);
    }
    if (get(inst, 'spec', 'exporter', 'tls') !== undefined && scheme !== 'https') problems.push(`${id}: exporter.tls is set but the endpoint is not https`);
  }
  return problems;
}

const INJECT = /^instrumentation\.opentelemetry\.io\/inject-([a-z-]+)$/;

/**
 * Every workload annotated for injection names an Instrumentation that exists in its namespace (or the one it
 * names), which has a section for that language and is applied in an earlier sync wave than the workload (pods
 * created before their Instrumentation exists are not injected).
 */
export function checkInjection(objs: Resource[]): string[] {
  const problems: string[] = [];
  const insts = find(objs, 'Instrumentation');
  for (const w of objs) {
    const t = podTemplateOf(w);
    if (!t) continue;
    const ann = (get(t, 'metadata', 'annotations') ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(ann)) {
      const m = INJECT.exec(k);
      if (!m || v === 'false') continue;
      const lang = m[1]!;
      if (!(lang in LANG_SECTION)) {
        problems.push(`${resourceId(w)}: unknown injection annotation ${k}`);
        continue;
      }
      const ns = w.metadata.namespace ?? 'default';
      let candidates: Resource[];
      if (v === 'true') candidates = insts.filter((i) => i.metadata.namespace === ns);
      else if (v.includes('/')) candidates = insts.filter((i) => `${i.metadata.namespace}/${i.metadata.name}` === v);
      else candidates = insts.filter((i) => i.metadata.namespace === ns && i.metadata.name === v);
      if (candidates.length !== 1) {
        problems.push(`${resourceId(w)}: ${k}: "${v}" matches ${candidates.length} Instrumentation(s) in namespace ${ns} (needs exactly one)`);
        continue;
      }
      const inst = candidates[0]!;
      if (get(inst, 'spec', LANG_SECTION[lang]!) === undefined) problems.push(`${resourceId(w)}: ${resourceId(inst)} has no ${LANG_SECTION[lang]} section`);
      if (!(wave(inst) < wave(w))) {
        problems.push(`${resourceId(w)} (sync wave ${wave(w)}) is not after ${resourceId(inst)} (sync wave ${wave(inst)}): its pods would start uninstrumented`);
      }
    }
  }
  return problems;
}

/** Skua (its OpenTelemetryCollector or Deployment) < Instrumentation < instrumented workloads; namespaces first. */
export function checkWaveOrder(objs: Resource[]): string[] {
  const problems: string[] = [];
  const skua = [...find(objs, 'OpenTelemetryCollector'), ...find(objs, 'Deployment', 'skua-collector')];
  const insts = find(objs, 'Instrumentation');
  const annotated = objs.filter((w) => Object.keys((get(podTemplateOf(w), 'metadata', 'annotations') ?? {}) as object).some((k) => INJECT.test(k)));
  for (const s of skua) {
    for (const i of insts) if (!(wave(s) < wave(i))) problems.push(`${resourceId(i)} (wave ${wave(i)}) must come after Skua ${resourceId(s)} (wave ${wave(s)})`);
    for (const a of annotated) if (!(wave(s) < wave(a))) problems.push(`${resourceId(a)} (wave ${wave(a)}) must come after Skua ${resourceId(s)} (wave ${wave(s)})`);
  }
  for (const ns of find(objs, 'Namespace')) {
    for (const o of objs) {
      if (o.metadata.namespace === ns.metadata.name && !(wave(ns) <= wave(o))) {
        problems.push(`${resourceId(o)} (wave ${wave(o)}) comes before its Namespace (wave ${wave(ns)})`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// References inside a render: volumes, Secrets, ConfigMaps, PVCs

export interface SecretRef {
  namespace: string;
  name: string;
  from: string;
}

export function secretReferences(objs: Resource[]): SecretRef[] {
  const refs: SecretRef[] = [];
  const add = (namespace: string | undefined, name: unknown, from: string): void => {
    if (typeof name === 'string') refs.push({ namespace: namespace ?? 'default', name, from });
  };
  for (const o of objs) {
    const id = resourceId(o);
    const ns = o.metadata.namespace;
    const specs: Obj[] = [...podSpecsOf(o)];
    if (o.kind === 'OpenTelemetryCollector' && isObj(o.spec)) specs.push({ volumes: o.spec.volumes, containers: [o.spec, ...arr(o.spec.additionalContainers)] });
    for (const spec of specs) {
      for (const v of arr(spec.volumes)) add(ns, get(v, 'secret', 'secretName'), id);
      for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
        for (const e of arr(c.env)) add(ns, get(e, 'valueFrom', 'secretKeyRef', 'name'), id);
        for (const e of arr(c.envFrom)) add(ns, get(e, 'secretRef', 'name'), id);
      }
    }
    if (o.kind === 'Instrumentation') add(ns, get(o, 'spec', 'exporter', 'tls', 'secretName'), id);
    if (o.kind === 'Ingress') for (const t of arr(get(o, 'spec', 'tls'))) add(ns, t.secretName, id);
    if (o.kind === 'ClusterIssuer') add('cert-manager', get(o, 'spec', 'ca', 'secretName'), id);
    if (o.kind === 'Issuer') add(ns, get(o, 'spec', 'ca', 'secretName'), id);
  }
  return refs;
}

/** Secrets the render produces: Secret objects and cert-manager Certificates' spec.secretName; Ingresses with a
 * cert-manager issuer annotation get theirs from cert-manager too. */
function producedSecrets(objs: Resource[]): Set<string> {
  const out = new Set<string>();
  for (const o of find(objs, 'Secret')) out.add(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);
  for (const c of find(objs, 'Certificate')) out.add(`${c.metadata.namespace ?? 'default'}/${String(get(c, 'spec', 'secretName'))}`);
  for (const i of find(objs, 'Ingress')) {
    const ann = i.metadata.annotations ?? {};
    if (ann['cert-manager.io/cluster-issuer'] || ann['cert-manager.io/issuer']) {
      for (const t of arr(get(i, 'spec', 'tls'))) out.add(`${i.metadata.namespace ?? 'default'}/${String(t.secretName)}`);
    }
  }
  return out;
}

/** Out-of-band Secrets the README documents, written as `namespace/name` in code spans in its Secrets section. */
export function documentedSecrets(readme: string): Set<string> {
  const start = readme.search(/^#+ .*Secrets created out of band/m);
  if (start < 0) return new Set();
  const rest = readme.slice(start);
  const bodyStart = rest.indexOf('\n') + 1;
  const next = rest.slice(bodyStart).search(/^#+ /m);
  const section = next < 0 ? rest : rest.slice(0, bodyStart + next);
  return new Set([...section.matchAll(/`([a-z0-9-]+\/[a-z0-9.-]+)`/g)].map((m) => m[1]!));
}

export function checkSecrets(objs: Resource[], readme: string): string[] {
  const produced = producedSecrets(objs);
  const documented = documentedSecrets(readme);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of secretReferences(objs)) {
    const key = `${r.namespace}/${r.name}`;
    if (seen.has(`${r.from} ${key}`)) continue;
    seen.add(`${r.from} ${key}`);
    if (!produced.has(key) && !documented.has(key)) {
      problems.push(`${r.from}: Secret ${key} is neither in the manifests (Secret or cert-manager Certificate) nor documented as created out of band in deploy/README.md`);
    }
  }
  // Credentials never live in the repository.
  for (const s of find(objs, 'Secret')) {
    if (s.data !== undefined || s.stringData !== undefined) problems.push(`${resourceId(s)}: Secret with data committed to the repository`);
  }
  return problems;
}

/** Volume mounts name declared volumes; ConfigMaps and PVCs that volumes use are in the render. */
export function checkVolumes(objs: Resource[]): string[] {
  const problems: string[] = [];
  const has = (kind: string, ns: string | undefined, name: unknown): boolean => typeof name === 'string' && find(objs, kind, name, ns).length > 0;
  for (const o of objs) {
    const id = resourceId(o);
    const groups: { volumes: Obj[]; containers: Obj[] }[] = podSpecsOf(o).map((s) => ({ volumes: arr(s.volumes), containers: [...arr(s.containers), ...arr(s.initContainers)] }));
    if (o.kind === 'OpenTelemetryCollector' && isObj(o.spec)) groups.push({ volumes: arr(o.spec.volumes), containers: [o.spec, ...arr(o.spec.additionalContainers)] });
    for (const g of groups) {
      const names = new Set(g.volumes.map((v) => v.name));
      for (const c of g.containers) {
        for (const m of arr(c.volumeMounts)) if (!names.has(m.name)) problems.push(`${id}: volumeMount "${String(m.name)}" has no volume of that name`);
      }
      for (const v of g.volumes) {
        const cm = get(v, 'configMap', 'name');
        if (cm !== undefined && !has('ConfigMap', o.metadata.namespace, cm)) problems.push(`${id}: volume "${String(v.name)}" uses ConfigMap ${String(cm)}, which is not in the manifests`);
        const pvc = get(v, 'persistentVolumeClaim', 'claimName');
        if (pvc !== undefined && !has('PersistentVolumeClaim', o.metadata.namespace, pvc)) problems.push(`${id}: volume "${String(v.name)}" uses PersistentVolumeClaim ${String(pvc)}, which is not in the manifests`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The Operator's defaulting webhook

/**
 * The Operator's mutating webhook writes defaults into spec.config where keys are missing (receiver endpoints,
 * healthcheckv2's status path /health/status, the metrics reader). Skua rejects keys it does not know, and Argo CD
 * would see drift, so the manifests write those keys out themselves.
 */
export function checkOperatorDefaultsExplicit(objs: Resource[]): string[] {
  const problems: string[] = [];
  for (const c of find(objs, 'OpenTelemetryCollector')) {
    const id = resourceId(c);
    const cfg = get(c, 'spec', 'config');
    const need = (path: string[], what: string): void => {
      if (get(cfg, ...path) === undefined) problems.push(`${id}: config ${path.join('::')} is not set; the Operator's webhook would fill in ${what}`);
    };
    for (const proto of ['grpc', 'http']) {
      if (get(cfg, 'receivers', 'otlp', 'protocols', proto) !== undefined) need(['receivers', 'otlp', 'protocols', proto, 'endpoint'], 'its own endpoint');
    }
    if (get(cfg, 'extensions', 'healthcheckv2') !== undefined) need(['extensions', 'healthcheckv2', 'http', 'status', 'path'], '/health/status');
    if (get(cfg, 'extensions', 'health_check') !== undefined) need(['extensions', 'health_check', 'path'], '/');
    if (get(cfg, 'extensions', 'jaeger_query') !== undefined) need(['extensions', 'jaeger_query', 'http', 'endpoint'], '0.0.0.0:16686');
    need(['service', 'telemetry', 'metrics', 'readers'], 'a Prometheus reader on 0.0.0.0:8888');
    if (get(c, 'spec', 'upgradeStrategy') !== 'none') problems.push(`${id}: spec.upgradeStrategy must be "none": the Operator's Collector-version migrations rewrite the config`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Environment policy: what differs between dev, staging and prod

export interface EnvFacts {
  env: string;
  replicas: number;
  backend: 'memory' | 'embedded' | 'server' | 'none';
  memoryLimiterFirst: boolean;
  memoryLimitMiB?: number;
  limitMiB?: number;
  ratio?: number;
  otlpTls: boolean;
}

function mib(q: unknown): number | undefined {
  if (typeof q === 'number') return q / 1024 / 1024;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const f: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576 };
  return m[2] ? n * f[m[2]]! : n / 1048576;
}

export function envFacts(env: string, objs: Resource[]): EnvFacts {
  const c = find(objs, 'OpenTelemetryCollector', 'skua')[0];
  const cfg = get(c, 'spec', 'config');
  const storageName = get(cfg, 'exporters', 'jaeger_storage_exporter', 'trace_storage');
  const backendCfg = typeof storageName === 'string' ? get(cfg, 'extensions', 'jaeger_storage', 'backends', storageName) : undefined;
  const backend: EnvFacts['backend'] = get(backendCfg, 'memory') !== undefined ? 'memory' : get(backendCfg, 'clickhouse', 'embedded') !== undefined ? 'embedded' : get(backendCfg, 'clickhouse', 'url') !== undefined ? 'server' : 'none';
  const processors = get(cfg, 'service', 'pipelines', 'traces', 'processors');
  const inst = find(objs, 'Instrumentation', 'skua')[0];
  const facts: EnvFacts = {
    env,
    replicas: Number(get(c, 'spec', 'replicas') ?? 1),
    backend,
    memoryLimiterFirst: Array.isArray(processors) && typeof processors[0] === 'string' && processors[0].split('/')[0] === 'memory_limiter',
    otlpTls: String(get(inst, 'spec', 'exporter', 'endpoint') ?? '').startsWith('https:'),
  };
  const limit = mib(get(c, 'spec', 'resources', 'limits', 'memory'));
  if (limit !== undefined) facts.memoryLimitMiB = limit;
  const ml = Array.isArray(processors) ? processors.find((p) => typeof p === 'string' && p.split('/')[0] === 'memory_limiter') : undefined;
  const lm = typeof ml === 'string' ? get(cfg, 'processors', ml, 'limit_mib') : undefined;
  if (typeof lm === 'number') facts.limitMiB = lm;
  const arg = get(inst, 'spec', 'sampler', 'argument');
  if (typeof arg === 'string' && arg.trim() !== '' && Number.isFinite(Number(arg))) facts.ratio = Number(arg);
  return facts;
}

export function checkEnvironmentPolicy(all: Record<string, Resource[]>): string[] {
  const problems: string[] = [];
  const f = Object.fromEntries(Object.entries(all).map(([env, objs]) => [env, envFacts(env, objs)])) as Record<string, EnvFacts>;
  const { dev, staging, prod } = f;
  if (!dev || !staging || !prod) return ['environments dev, staging and prod must all exist'];
  for (const x of Object.values(f)) {
    const inst = find(all[x.env]!, 'Instrumentation', 'skua')[0];
    if (get(inst, 'spec', 'sampler', 'type') !== 'parentbased_traceidratio') problems.push(`${x.env}: sampler type must be parentbased_traceidratio`);
    if (x.ratio === undefined || x.ratio < 0 || x.ratio > 1) problems.push(`${x.env}: sampler argument must be a ratio in [0, 1]`);
    if (x.replicas > 1 && (x.backend === 'memory' || x.backend === 'embedded')) {
      problems.push(`${x.env}: ${x.replicas} replicas with a ${x.backend} store would split traces between pods; use a ClickHouse server`);
    }
    if (x.memoryLimitMiB === undefined) problems.push(`${x.env}: Skua has no memory limit`);
    if (x.limitMiB !== undefined && x.memoryLimitMiB !== undefined && !(x.limitMiB < x.memoryLimitMiB)) {
      problems.push(`${x.env}: memory_limiter limit_mib ${x.limitMiB} is not below the container's memory limit (${x.memoryLimitMiB} MiB)`);
    }
  }
  if (dev.backend !== 'embedded') problems.push(`dev: Skua must use the embedded ClickHouse store (has ${dev.backend})`);
  if (dev.ratio !== 1) problems.push(`dev: every trace must be sampled (ratio 1, has ${String(dev.ratio)})`);
  for (const x of [staging, prod]) {
    if (x.backend !== 'server') problems.push(`${x.env}: Skua must use a ClickHouse server/cluster (has ${x.backend})`);
    if (!x.memoryLimiterFirst) problems.push(`${x.env}: memory_limiter must be the first processor of the traces pipeline`);
    if (!(x.ratio !== undefined && dev.ratio !== undefined && x.ratio < dev.ratio)) problems.push(`${x.env}: sampling ratio must be lower than dev's`);
    if (!(x.replicas > dev.replicas)) problems.push(`${x.env}: must run more Skua replicas than dev`);
  }
  if (!(prod.ratio !== undefined && staging.ratio !== undefined && prod.ratio <= staging.ratio)) problems.push('prod: sampling ratio must not exceed staging\'s');
  if (!(prod.replicas >= staging.replicas)) problems.push('prod: must run at least as many replicas as staging');
  if (!prod.otlpTls) problems.push('prod: OTLP must use TLS (the Instrumentation endpoint must be https)');
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// NetworkPolicies, evaluated

export interface PodRef {
  namespace: string;
  labels: Record<string, string>;
}

function labelSelectorMatches(sel: unknown, labels: Record<string, string>): boolean {
  if (!isObj(sel)) return false;
  const ml = isObj(sel.matchLabels) ? sel.matchLabels : {};
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  for (const e of arr(sel.matchExpressions)) {
    const key = String(e.key);
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = key in labels;
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${String(e.operator)}`);
    }
  }
  return true;
}

function nsLabels(ns: string): Record<string, string> {
  return { 'kubernetes.io/metadata.name': ns };
}

function peerMatches(peer: Obj, other: PodRef, policyNs: string): boolean {
  if (peer.ipBlock !== undefined) return false; // pod-to-pod only here
  const nsOk = peer.namespaceSelector === undefined ? other.namespace === policyNs : labelSelectorMatches(peer.namespaceSelector, nsLabels(other.namespace));
  const podOk = peer.podSelector === undefined ? true : labelSelectorMatches(peer.podSelector, other.labels);
  return nsOk && podOk;
}

function portMatches(rulePorts: unknown, port: number): boolean {
  const list = arr(rulePorts);
  if (list.length === 0) return true;
  return list.some((p) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || p.port === port || (typeof p.endPort === 'number' && typeof p.port === 'number' && port >= p.port && port <= p.endPort)));
}

function policyTypes(p: Resource): string[] {
  const t = get(p, 'spec', 'policyTypes');
  if (Array.isArray(t)) return t.map(String);
  return get(p, 'spec', 'egress') !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Whether a TCP connection from `src` to `port` of `dst` is allowed by the NetworkPolicies in `objs`
 * (both the destination's ingress and the source's egress policies are consulted, as the API defines). */
export function allowed(objs: Resource[], src: PodRef, dst: PodRef, port: number): boolean {
  const policies = find(objs, 'NetworkPolicy');
  const selecting = (pod: PodRef, type: string): Resource[] =>
    policies.filter((p) => p.metadata.namespace === pod.namespace && policyTypes(p).includes(type) && (Object.keys(get(p, 'spec', 'podSelector') as object ?? {}).length === 0 ? true : labelSelectorMatches(get(p, 'spec', 'podSelector'), pod.labels)));
  const ingress = selecting(dst, 'Ingress');
  const ingressOk = ingress.length === 0 || ingress.some((p) => arr(get(p, 'spec', 'ingress')).some((r) => (r.from === undefined || arr(r.from).some((peer) => peerMatches(peer, src, p.metadata.namespace!))) && portMatches(r.ports, port)));
  const egress = selecting(src, 'Egress');
  const egressOk = egress.length === 0 || egress.some((p) => arr(get(p, 'spec', 'egress')).some((r) => (r.to === undefined || arr(r.to).some((peer) => peerMatches(peer, dst, p.metadata.namespace!))) && portMatches(r.ports, port)));
  return ingressOk && egressOk;
}

/** The labels of Skua's pods: the Operator's labels for an OpenTelemetryCollector, else the Deployment's template. */
export function skuaPod(objs: Resource[]): PodRef | undefined {
  const c = find(objs, 'OpenTelemetryCollector')[0];
  if (c) {
    const ns = c.metadata.namespace ?? 'default';
    return {
      namespace: ns,
      labels: {
        'app.kubernetes.io/name': `${c.metadata.name}-collector`,
        'app.kubernetes.io/component': 'opentelemetry-collector',
        'app.kubernetes.io/instance': `${ns}.${c.metadata.name}`,
        'app.kubernetes.io/managed-by': 'opentelemetry-operator',
        'app.kubernetes.io/part-of': 'opentelemetry',
      },
    };
  }
  const d = find(objs, 'Deployment', 'skua-collector')[0];
  if (!d) return undefined;
  return { namespace: d.metadata.namespace ?? 'default', labels: (get(podTemplateOf(d), 'metadata', 'labels') ?? {}) as Record<string, string> };
}

export const APPS_POD: PodRef = { namespace: 'apps', labels: { 'app.kubernetes.io/name': 'frontend' } };
export const OTHER_NS_POD: PodRef = { namespace: 'default', labels: { app: 'anything' } };
export const INGRESS_POD: PodRef = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' } };
export const PROMETHEUS_POD: PodRef = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
export const CLICKHOUSE_POD: PodRef = { namespace: 'clickhouse', labels: { 'app.kubernetes.io/name': 'clickhouse' } };

/** The access rules of issue 5, evaluated on the policies: OTLP only from `apps`, 16686 only from the ingress
 * controller, storage only from Skua (a ClickHouse server, or for the embedded store a volume only Skua mounts). */
export function checkNetworkPolicies(objs: Resource[], backend: EnvFacts['backend']): string[] {
  const problems: string[] = [];
  const skua = skuaPod(objs);
  if (!skua) return ['no Skua pods found'];
  const expect = (what: string, src: PodRef, dst: PodRef, port: number, want: boolean): void => {
    if (allowed(objs, src, dst, port) !== want) problems.push(`${what}: expected ${want ? 'allowed' : 'denied'} (${src.namespace} -> ${dst.namespace}:${port})`);
  };
  const otlpPorts = [4317, 4318];
  for (const p of otlpPorts) {
    expect(`OTLP ${p} from the apps namespace`, APPS_POD, skua, p, true);
    expect(`OTLP ${p} from another namespace`, OTHER_NS_POD, skua, p, false);
    expect(`OTLP ${p} from the ingress controller`, INGRESS_POD, skua, p, false);
  }
  expect('UI 16686 from the ingress controller', INGRESS_POD, skua, 16686, true);
  expect('UI 16686 from the apps namespace', APPS_POD, skua, 16686, false);
  expect('UI 16686 from another namespace', OTHER_NS_POD, skua, 16686, false);
  expect('UI 16686 from another pod in monitoring', PROMETHEUS_POD, skua, 16686, false);
  if (backend === 'server') {
    for (const p of [8123, 8443]) {
      expect(`ClickHouse ${p} from Skua`, skua, CLICKHOUSE_POD, p, true);
      expect(`ClickHouse ${p} from the apps namespace`, APPS_POD, CLICKHOUSE_POD, p, false);
      expect(`ClickHouse ${p} from another pod in monitoring`, PROMETHEUS_POD, CLICKHOUSE_POD, p, false);
    }
  } else if (backend === 'embedded') {
    const c = find(objs, 'OpenTelemetryCollector')[0] ?? find(objs, 'Deployment', 'skua-collector')[0];
    const claim = arr(get(c, 'spec', 'volumes')).concat(podSpecsOf(c!).flatMap((s) => arr(s.volumes))).map((v) => get(v, 'persistentVolumeClaim', 'claimName')).find((x) => typeof x === 'string');
    if (typeof claim !== 'string') problems.push('the embedded store has no PersistentVolumeClaim');
    for (const w of objs) {
      if (w === c) continue;
      for (const s of podSpecsOf(w)) {
        if (arr(s.volumes).some((v) => get(v, 'persistentVolumeClaim', 'claimName') === claim)) problems.push(`${resourceId(w)} mounts Skua's store ${String(claim)}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Images and users

/** Container images are pinned to a tag or digest (never implicit :latest). */
export function checkImagesPinned(objs: Resource[]): string[] {
  const problems: string[] = [];
  const check = (image: unknown, where: string): void => {
    if (typeof image !== 'string') return;
    const ref = parseImage(image);
    if (!ref.digest && (!ref.tag || ref.tag === 'latest')) problems.push(`${where}: image ${image} is not pinned to a tag`);
  };
  for (const o of objs) {
    for (const s of podSpecsOf(o)) for (const c of [...arr(s.containers), ...arr(s.initContainers)]) check(c.image, resourceId(o));
    if (o.kind === 'OpenTelemetryCollector') {
      check(get(o, 'spec', 'image'), resourceId(o));
      for (const c of arr(get(o, 'spec', 'additionalContainers'))) check(c.image, resourceId(o));
    }
  }
  return problems;
}

/** Namespaced objects say their namespace (Argo CD applies them where they say, whatever the app's default). */
export function checkNamespaced(objs: Resource[]): string[] {
  return objs.filter((o) => !isClusterScoped(o.kind) && !o.metadata.namespace).map((o) => `${resourceId(o)}: no metadata.namespace`);
}
