// Offline validation of deploy/kubernetes (and the schema/parse checks of everything under deploy/): every YAML
// parses, every kustomization renders, every object validates against its schema, every Skua configuration passes
// `skua validate`, and the cross-references hold. Each check is also fed a broken copy, to show it can fail.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as C from '../deploy/tools/checks.js';
import type { Resource } from '../deploy/tools/kustomize.js';
import { ENVIRONMENTS, REPO_ROOT, find, get, loadModel, overlay, type DeployModel } from '../deploy/tools/model.js';
import { validateObject } from '../deploy/tools/schemas.js';
import { clone, parseYamlDocs } from '../deploy/tools/yaml-files.js';

const model: DeployModel = loadModel();
const overlays: Record<string, Resource[]> = Object.fromEntries(ENVIRONMENTS.map((e) => [e, overlay(model, e)]));
const plain = model.renders.get('deploy/kubernetes/plain')!;

/** A deep copy of an environment's render, to break in a negative test. */
function copyOf(env: string): Resource[] {
  return clone(overlays[env]!);
}

function one(objs: Resource[], kind: string, name?: string): Resource {
  const r = find(objs, kind, name);
  assert.equal(r.length, 1, `expected one ${kind} ${name ?? ''}`);
  return r[0]!;
}

describe('YAML under deploy/', () => {
  test('every file parses and every kustomization renders', () => {
    assert.ok(model.yamlFiles.length > 20, 'the manifests were found');
    assert.ok(model.renders.size >= 10);
    for (const env of ENVIRONMENTS) assert.ok(overlays[env]!.length > 15, `${env} renders`);
  });

  test('every YAML file is used by a kustomization or is a documented standalone manifest', () => {
    const unused = model.yamlFiles.filter((f) => !model.usedFiles.has(f));
    assert.deepEqual(unused, []);
  });

  test('a syntax error or a duplicate key is reported with the file', () => {
    assert.throws(() => parseYamlDocs('a: 1\na: 2\n', 'x.yaml'), /x\.yaml: YAML document 1 does not parse/);
    assert.throws(() => parseYamlDocs('a: [1, 2\n', 'y.yaml'), /y\.yaml/);
  });
});

describe('schemas', () => {
  test('every rendered and standalone object validates (Kubernetes, Argo CD, Operator, cert-manager schemas)', async () => {
    const problems: string[] = [];
    const seen = new Set<object>();
    for (const [dir, objs] of model.renders) {
      for (const o of objs) {
        if (seen.has(o)) continue;
        seen.add(o);
        for (const p of await validateObject(o)) problems.push(`${dir}: ${o.kind} ${o.metadata.name}: ${p}`);
      }
    }
    for (const o of model.standalone) for (const p of await validateObject(o)) problems.push(`${o.kind} ${o.metadata.name}: ${p}`);
    assert.deepEqual(problems, []);
  });

  test('schema violations are found', async () => {
    const dev = copyOf('dev');
    const col = one(dev, 'OpenTelemetryCollector');
    (col.spec as Record<string, unknown>).replica = 2; // typo of replicas
    assert.match((await validateObject(col)).join('\n'), /Unrecognized key: "replica"/);
    const inst = one(dev, 'Instrumentation');
    (get(inst, 'spec', 'sampler') as Record<string, unknown>).argument = 0.5; // must be a string
    assert.match((await validateObject(inst)).join('\n'), /sampler\.argument/);
    const d = one(dev, 'Deployment', 'frontend');
    (get(d, 'spec', 'template', 'spec', 'containers', 0, 'ports', 0) as Record<string, unknown>).containerPort = '8080';
    assert.match((await validateObject(d)).join('\n'), /containerPort must be integer/);
    assert.match((await validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).join('\n'), /no schema known/);
  });
});

/** Runs the real CLI: `skua validate --config FILE` with the container's environment. */
function skuaValidate(file: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', '--config', file], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`skua validate ${file} did not finish in 60 s`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

describe('Skua configurations in the manifests', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skua-deploy-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const all = (): C.SkuaConfig[] => [...ENVIRONMENTS.flatMap((e) => C.skuaConfigs(overlays[e]!)), ...C.skuaConfigs(plain), ...C.skuaConfigs(model.renders.get('deploy/kubernetes/base')!)];

  test('there is one per environment, one for the plain Deployment and one in the base', () => {
    assert.equal(all().length, 5);
  });

  test('each passes `skua validate` with the environment its container gets', async () => {
    const configs = all();
    const results: string[] = [];
    // Two at a time: each is a Node process with tsx.
    for (let i = 0; i < configs.length; i += 2) {
      await Promise.all(
        configs.slice(i, i + 2).map(async (c, j) => {
          const file = join(dir, `config-${i + j}.yaml`);
          writeFileSync(file, c.text);
          const r = await skuaValidate(file, c.env);
          if (r.code !== 0) results.push(`${c.where}: skua validate exited ${r.code}:\n${r.output}`);
        }),
      );
    }
    assert.deepEqual(results, []);
  });

  test('an invalid one fails `skua validate` (the check can fail)', async () => {
    const bad = clone(C.skuaConfigs(overlays.dev!)[0]!);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, bad.text.replace('max_traces', 'max_tracez').replace('check_interval', 'check_intervall').replace('endpoint: 0.0.0.0:4318', 'endpoint: 0.0.0.0:4318\n        tls: {cert_file: /x}'));
    const r = await skuaValidate(file, bad.env);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /receivers::otlp::protocols::http::tls/);
  });

  test('every ${env:VAR} they use is set in the container; no credential is written inline', () => {
    const problems = all().flatMap((c) => [...C.checkEnvReferences(c.text, c.env, c.where), ...C.checkNoInlineCredentials(c.config, c.where)]);
    assert.deepEqual(problems, []);
    const staging = C.skuaConfigs(copyOf('staging'))[0]!;
    assert.match(C.checkEnvReferences(staging.text, {}, 'x').join('\n'), /CLICKHOUSE_USER/);
    const inline = clone(staging.config);
    (get(inline, 'extensions', 'jaeger_storage', 'backends', 'traces', 'clickhouse') as Record<string, unknown>).password = 'hunter2';
    assert.match(C.checkNoInlineCredentials(inline, 'x').join('\n'), /password is written inline/);
  });

  test('the keys the Operator webhook would default are written out', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkOperatorDefaultsExplicit(overlays[env]!), [], env);
    const dev = copyOf('dev');
    const col = one(dev, 'OpenTelemetryCollector');
    delete (get(col, 'spec', 'config', 'extensions', 'healthcheckv2', 'http') as Record<string, unknown>).status;
    assert.match(C.checkOperatorDefaultsExplicit(dev).join('\n'), /healthcheckv2::http::status::path/);
  });
});

describe('cross-references', () => {
  test('the Instrumentation endpoint names a Service and port that exist, and the port matches the protocol', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkInstrumentationEndpoints(overlays[env]!), [], env);
  });

  test('a wrong endpoint is found: unknown Service, unknown port, gRPC port, wrong protocol, wrong scheme', () => {
    const cases: [string, (objs: Resource[]) => void, RegExp][] = [
      ['dev', (o) => setEndpoint(o, 'http://skua.monitoring:4318'), /no Service monitoring\/skua/],
      ['dev', (o) => setEndpoint(o, 'http://skua-collector.monitoring:4319'), /has no port 4319/],
      ['dev', (o) => setEndpoint(o, 'http://skua-collector.monitoring:4317'), /reaches the Skua OTLP gRPC receiver|port 4317 goes with grpc/],
      ['dev', (o) => setProtocol(o, 'grpc'), /speaks grpc but .* reaches the Skua OTLP\/HTTP receiver/],
      ['dev', (o) => setEndpoint(o, 'https://skua-collector.monitoring:4318'), /uses https but port 4318 is plaintext/],
      ['prod', (o) => setEndpoint(o, 'http://skua-collector.monitoring:4318'), /uses http but port 4318 is TLS/],
      ['prod', (o) => setEndpoint(o, 'https://skua-collector.monitoring:16686'), /no Skua OTLP receiver listens/],
    ];
    for (const [env, breakIt, expected] of cases) {
      const objs = copyOf(env);
      breakIt(objs);
      assert.match(C.checkInstrumentationEndpoints(objs).join('\n'), expected);
    }
  });

  test('prod: the TLS sidecar forwards 4317/4318 to Skua receivers that listen on loopback only', () => {
    const prod = overlays.prod!;
    const col = one(prod, 'OpenTelemetryCollector');
    const configs = C.skuaConfigs(prod);
    assert.match(C.listenerOn(col, 4318, prod, configs)!.via, /sidecar otlp-tls \(TLS\) -> Skua OTLP\/HTTP receiver 127\.0\.0\.1:14318/);
    assert.match(C.listenerOn(col, 4317, prod, configs)!.via, /Skua OTLP gRPC receiver 127\.0\.0\.1:14317/);
    assert.equal(C.listenerOn(col, 4317, prod, configs)!.tls, true);
  });

  test('every annotated workload has its Instrumentation, with its language, in an earlier sync wave', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkInjection(overlays[env]!), [], env);
    const langs = new Set(overlays.dev!.flatMap((w) => Object.keys((get(w, 'spec', 'template', 'metadata', 'annotations') ?? {}) as object)));
    assert.ok(langs.has('instrumentation.opentelemetry.io/inject-nodejs'));
    assert.ok(langs.has('instrumentation.opentelemetry.io/inject-dotnet'));

    const late = copyOf('dev');
    one(late, 'Instrumentation').metadata.annotations!['argocd.argoproj.io/sync-wave'] = '2';
    assert.match(C.checkInjection(late).join('\n'), /would start uninstrumented/);
    const missing = copyOf('dev');
    (get(one(missing, 'Deployment', 'aspnetapp'), 'spec', 'template', 'metadata', 'annotations') as Record<string, string>)['instrumentation.opentelemetry.io/inject-dotnet'] = 'other';
    assert.match(C.checkInjection(missing).join('\n'), /"other" matches 0 Instrumentation/);
    const noSection = copyOf('dev');
    delete (one(noSection, 'Instrumentation').spec as Record<string, unknown>).dotnet;
    assert.match(C.checkInjection(noSection).join('\n'), /has no dotnet section/);
  });

  test('sync waves: namespaces, then Skua, then Instrumentation, then the applications', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkWaveOrder(overlays[env]!), [], env);
    const bad = copyOf('staging');
    one(bad, 'OpenTelemetryCollector').metadata.annotations!['argocd.argoproj.io/sync-wave'] = '1';
    assert.match(C.checkWaveOrder(bad).join('\n'), /must come after Skua/);
    const ns = copyOf('staging');
    one(ns, 'Namespace', 'apps').metadata.annotations!['argocd.argoproj.io/sync-wave'] = '5';
    assert.match(C.checkWaveOrder(ns).join('\n'), /comes before its Namespace/);
  });

  test('referenced Secrets exist or are documented as created out of band; none is committed', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkSecrets(overlays[env]!, model.readme), [], env);
    assert.deepEqual(C.checkSecrets(plain, model.readme), []);
    assert.ok(C.documentedSecrets(model.readme).has('monitoring/skua-clickhouse'));
    const typo = copyOf('staging');
    const env = get(one(typo, 'OpenTelemetryCollector'), 'spec', 'env') as Record<string, unknown>[];
    (get(env[0], 'valueFrom', 'secretKeyRef') as Record<string, unknown>).name = 'skua-clickhous';
    assert.match(C.checkSecrets(typo, model.readme).join('\n'), /monitoring\/skua-clickhous is neither/);
    const committed = copyOf('dev');
    committed.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'monitoring' }, stringData: { password: 'p' } });
    assert.match(C.checkSecrets(committed, model.readme).join('\n'), /committed to the repository/);
    // prod's TLS Secrets come from its cert-manager Certificates
    assert.ok(C.secretReferences(overlays.prod!).some((r) => r.name === 'skua-otlp-tls'));
  });

  test('volume mounts, ConfigMaps and PersistentVolumeClaims resolve', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkVolumes(overlays[env]!), [], env);
    assert.deepEqual(C.checkVolumes(plain), []);
    const bad = copyOf('prod');
    const col = one(bad, 'OpenTelemetryCollector');
    (get(col, 'spec', 'additionalContainers', 0, 'volumeMounts', 0) as Record<string, unknown>).name = 'otlp-tsl';
    (get(col, 'spec', 'volumes', 2, 'configMap') as Record<string, unknown>).name = 'nope';
    const problems = C.checkVolumes(bad).join('\n');
    assert.match(problems, /volumeMount "otlp-tsl" has no volume/);
    assert.match(problems, /ConfigMap nope, which is not in the manifests/);
  });

  test('namespaced objects name their namespace; images are pinned', () => {
    for (const env of ENVIRONMENTS) {
      assert.deepEqual(C.checkNamespaced(overlays[env]!), [], env);
      assert.deepEqual(C.checkImagesPinned(overlays[env]!), [], env);
    }
    const bad = copyOf('dev');
    (get(one(bad, 'Deployment', 'loadgen'), 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>).image = 'curlimages/curl';
    delete one(bad, 'Service', 'route').metadata.namespace;
    assert.match(C.checkImagesPinned(bad).join('\n'), /not pinned/);
    assert.match(C.checkNamespaced(bad).join('\n'), /Service route: no metadata.namespace/);
  });
});

describe('environments', () => {
  test('dev, staging and prod differ as intended (storage, sampling, replicas, memory_limiter, resources, TLS)', () => {
    assert.deepEqual(C.checkEnvironmentPolicy(overlays), []);
    const f = Object.fromEntries(ENVIRONMENTS.map((e) => [e, C.envFacts(e, overlays[e]!)]));
    assert.equal(f.dev!.backend, 'embedded');
    assert.equal(f.prod!.otlpTls, true);
  });

  test('policy violations are found', () => {
    const broken = (env: string, fn: (objs: Resource[]) => void): string => {
      const copy = { ...overlays, [env]: copyOf(env) };
      fn(copy[env]!);
      return C.checkEnvironmentPolicy(copy).join('\n');
    };
    assert.match(broken('staging', (o) => setRatio(o, '1')), /staging: sampling ratio must be lower than dev's/);
    assert.match(broken('prod', (o) => ((one(o, 'OpenTelemetryCollector').spec as Record<string, unknown>).replicas = 1)), /prod: must run more Skua replicas than dev/);
    assert.match(
      broken('prod', (o) => ((get(one(o, 'OpenTelemetryCollector'), 'spec', 'config', 'processors', 'memory_limiter') as Record<string, unknown>).limit_mib = 5000)),
      /limit_mib 5000 is not below the container's memory limit \(4096 MiB\)/,
    );
    assert.match(broken('staging', (o) => ((get(one(o, 'OpenTelemetryCollector'), 'spec', 'config', 'service', 'pipelines', 'traces') as Record<string, unknown>).processors = ['batch'])), /memory_limiter must be the first/);
    assert.match(broken('dev', (o) => ((one(o, 'OpenTelemetryCollector').spec as Record<string, unknown>).replicas = 2)), /2 replicas with a embedded store/);
    assert.match(broken('prod', (o) => setEndpoint(o, 'http://skua-collector.monitoring:4318')), /prod: OTLP must use TLS/);
  });

  test('NetworkPolicies: OTLP only from apps, 16686 only from the ingress controller, storage only from Skua', () => {
    for (const env of ENVIRONMENTS) assert.deepEqual(C.checkNetworkPolicies(overlays[env]!, C.envFacts(env, overlays[env]!).backend), [], env);
    assert.deepEqual(C.checkNetworkPolicies(plain, 'embedded'), []);
  });

  test('a too open or too closed NetworkPolicy is found', () => {
    const open = copyOf('staging');
    const otlp = one(open, 'NetworkPolicy', 'skua-otlp-from-apps');
    (get(otlp, 'spec', 'ingress', 0) as Record<string, unknown>).from = [{ namespaceSelector: {} }];
    assert.match(C.checkNetworkPolicies(open, 'server').join('\n'), /OTLP 4318 from another namespace: expected denied/);
    const closed = copyOf('staging');
    closed.splice(closed.indexOf(one(closed, 'NetworkPolicy', 'skua-ui-from-ingress')), 1);
    assert.match(C.checkNetworkPolicies(closed, 'server').join('\n'), /UI 16686 from the ingress controller: expected allowed/);
    const storage = copyOf('prod');
    storage.splice(storage.indexOf(one(storage, 'NetworkPolicy', 'clickhouse-from-skua-only')), 1);
    assert.match(C.checkNetworkPolicies(storage, 'server').join('\n'), /ClickHouse 8123 from the apps namespace: expected denied/);
    const egress = copyOf('prod');
    egress.splice(egress.indexOf(one(egress, 'NetworkPolicy', 'skua-egress-clickhouse')), 1);
    assert.match(C.checkNetworkPolicies(egress, 'server').join('\n'), /ClickHouse 8123 from Skua: expected allowed/);
  });
});

function setEndpoint(objs: Resource[], url: string): void {
  (get(one(objs, 'Instrumentation'), 'spec', 'exporter') as Record<string, unknown>).endpoint = url;
}

function setProtocol(objs: Resource[], protocol: string): void {
  const env = get(one(objs, 'Instrumentation'), 'spec', 'env') as { name: string; value: string }[];
  env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_PROTOCOL')!.value = protocol;
}

function setRatio(objs: Resource[], ratio: string): void {
  (get(one(objs, 'Instrumentation'), 'spec', 'sampler') as Record<string, unknown>).argument = ratio;
}
