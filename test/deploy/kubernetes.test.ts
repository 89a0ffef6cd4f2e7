import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@cbot-relay/config';
import { REPO_ROOT } from '@cbot-relay/testing';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

// deploy/kubernetes rendered by `kubectl kustomize` (kubectl is /usr/bin/kubectl; .ci/run makes sure
// of it) and every object checked against the Kubernetes and KEDA schemas (kubernetes-models,
// offline): types and required fields by the schema's validator, and unknown fields (a typo such as
// `terminationGracePeriodSecond`, which the schemas alone let through) by watching which fields the
// validator reads. Under CI a missing kubectl fails; locally the checks are skipped with a note.
const found = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const MISSING = 'kubectl not on PATH (.ci/run installs it)';
if (!found && !ci) console.warn(`test/deploy/kubernetes.test.ts: skipped: ${MISSING}`);

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };

const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

function render(dir: string): K8sObject[] {
  if (!found) throw new Error(MISSING);
  const r = spawnSync('kubectl', ['kustomize', join(REPO_ROOT, 'deploy/kubernetes', dir)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

/** Runs the object's schema validator on a copy that records every field the validator reads. */
function validate(obj: K8sObject): string[] {
  const model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (model === undefined) return [`${obj.apiVersion} ${obj.kind}: no schema here (add its model to MODELS)`];
  const unread: Map<object, { path: string; read: Set<PropertyKey> }> = new Map();
  const watch = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const read = new Set<PropertyKey>();
    const target = Array.isArray(value) ? value.map((v, i) => watch(v, `${path}[${i}]`)) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, watch(v, `${path}.${k}`)]));
    const proxy = new Proxy(target, {
      get(t, key, receiver) {
        read.add(key);
        return Reflect.get(t, key, receiver);
      },
    });
    if (!Array.isArray(value)) unread.set(target, { path, read });
    return proxy;
  };
  const watched = watch(obj, '');
  try {
    model.prototype.validate.call(watched);
  } catch (err) {
    return [`${obj.kind} ${obj.metadata.name}: ${err instanceof Error ? err.message : String(err)}`];
  }
  const unknown: string[] = [];
  for (const [target, { path, read }] of unread) {
    for (const key of Object.keys(target)) if (!read.has(key)) unknown.push(`${obj.kind} ${obj.metadata.name}: unknown field ${path}.${key}`);
  }
  return unknown;
}

describe.skipIf(!found && !ci)(found || ci ? 'deploy/kubernetes under kubectl kustomize' : `deploy/kubernetes (skipped: ${MISSING})`, () => {
  const base = found ? render('base') : [];
  const overlay = found ? render('overlays/example') : [];
  const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
  const deployments = () => byKind(overlay, 'Deployment') as unknown as DeploymentShape[];

  it('renders the base and the example overlay into objects that pass the Kubernetes and KEDA schemas', () => {
    expect(base.length).toBeGreaterThan(0);
    expect([...base, ...overlay].flatMap(validate)).toEqual([]);
  });

  it('fails a typo, a wrong type and an unknown kind (the check can fail)', () => {
    const dep = structuredClone(deployments()[0]!) as unknown as K8sObject & DeploymentShape;
    (dep.spec.template.spec as Record<string, unknown>).terminationGracePeriodSecond = 45;
    expect(validate(dep)).toEqual([expect.stringContaining('unknown field .spec.template.spec.terminationGracePeriodSecond')]);
    const so = structuredClone(byKind(overlay, 'ScaledObject')[0]!) as K8sObject & { spec: { minReplicaCount: unknown } };
    so.spec.minReplicaCount = 'two';
    expect(validate(so)).toEqual([expect.stringContaining('minReplicaCount must be integer')]);
    expect(validate({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toEqual([expect.stringContaining('no schema here')]);
  });

  it('runs ingress, dispatcher and fanout from one image, picked by RELAY_ROLES, with config from a ConfigMap and a Secret', () => {
    const roles = deployments().map((d) => {
      const c = d.spec.template.spec.containers[0]!;
      return { role: c.env.find((e) => e.name === 'RELAY_ROLES')?.value, image: c.image, from: c.envFrom.map((f) => Object.keys(f)[0]) };
    });
    expect(roles.map((r) => r.role).sort()).toEqual(['dispatcher', 'fanout', 'ingress']);
    expect(new Set(roles.map((r) => r.image))).toEqual(new Set(['registry.example.com/cbot-relay:1.0.0']));
    for (const r of roles) expect(r.from).toEqual(['configMapRef', 'secretRef']);
    const names = overlay.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const d of deployments()) {
      for (const f of d.spec.template.spec.containers[0]!.envFrom) {
        const ref = f.configMapRef?.name ?? f.secretRef?.name;
        expect(names, ref).toContain(`${f.configMapRef ? 'ConfigMap' : 'Secret'}/${ref}`);
      }
    }
  });

  it('probes the ops port, outlasts SHUTDOWN_TIMEOUT_MS, runs read-only and non-root, within the measured RSS', () => {
    const config = byKind(overlay, 'ConfigMap').find((c) => c.metadata.name === 'cbot-relay-config') as unknown as { data: Record<string, string> };
    const shutdownMs = loadConfig(config.data).shutdownTimeoutMs;
    expect(shutdownMs).toBe(loadConfig({}).shutdownTimeoutMs);
    for (const d of deployments()) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0]!;
      const name = d.metadata.name;
      const ops = c.ports.find((p) => p.name === 'ops');
      expect(String(ops?.containerPort), name).toBe(config.data.OPS_PORT);
      expect(c.livenessProbe.httpGet, name).toEqual({ path: '/healthz', port: 'ops' });
      expect(c.readinessProbe.httpGet, name).toEqual({ path: '/readyz', port: 'ops' });
      const preStopS = c.lifecycle?.preStop?.exec?.command[0] === 'sleep' ? Number(c.lifecycle.preStop.exec.command[1]) : 0;
      expect(pod.terminationGracePeriodSeconds * 1000, name).toBeGreaterThan(shutdownMs + preStopS * 1000);
      expect(pod.securityContext.runAsNonRoot, name).toBe(true);
      expect(c.securityContext.readOnlyRootFilesystem, name).toBe(true);
      expect(c.securityContext.allowPrivilegeEscalation, name).toBe(false);
      // Peak RSS: dispatcher 115-118 MB, ingress 116-122 MB (docs/performance.md).
      const limit = mebibytes(c.resources.limits.memory);
      expect(limit, name).toBeGreaterThanOrEqual(name.endsWith('dispatcher') ? 200 : 160);
      expect(mebibytes(c.resources.requests.memory), name).toBeLessThanOrEqual(limit);
    }
  });

  it('keeps a PodDisruptionBudget over each Deployment', () => {
    const pdbs = byKind(overlay, 'PodDisruptionBudget') as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }[];
    for (const d of deployments()) {
      const labels = d.spec.template.metadata.labels;
      const covering = pdbs.filter((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v));
      expect(covering, d.metadata.name).toHaveLength(1);
    }
  });

  it('scales the dispatchers with KEDA on relay_outbound_backlog, a metric the relay exports', () => {
    const [so] = byKind(overlay, 'ScaledObject') as unknown as {
      spec: { scaleTargetRef: { name: string }; minReplicaCount: number; maxReplicaCount: number; triggers: { type: string; metadata: Record<string, string> }[] };
    }[];
    const dispatcher = deployments().find((d) => d.metadata.name.endsWith('dispatcher'))!;
    expect(so!.spec.scaleTargetRef.name).toBe(dispatcher.metadata.name);
    expect(dispatcher.spec.replicas).toBeUndefined();
    expect(so!.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    const [trigger] = so!.spec.triggers;
    expect(trigger!.type).toBe('prometheus');
    const metric = /\b(relay_[a-z_]+)\{/.exec(trigger!.metadata.query!)?.[1];
    expect(metric).toBe('relay_outbound_backlog');
    expect(readFileSync(join(REPO_ROOT, 'packages/observability/src/metrics.ts'), 'utf8')).toContain(`name: '${metric}'`);
  });
});

function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (m === null) throw new Error(`memory quantity ${q}: write it in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

interface DeploymentShape {
  metadata: { name: string };
  spec: {
    replicas?: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot?: boolean };
        containers: {
          image: string;
          env: { name: string; value?: string }[];
          envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
          ports: { name: string; containerPort: number }[];
          livenessProbe: { httpGet: unknown };
          readinessProbe: { httpGet: unknown };
          lifecycle?: { preStop?: { exec?: { command: string[] } } };
          resources: { requests: { memory: string }; limits: { memory: string } };
          securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
        }[];
      };
    };
  };
}
