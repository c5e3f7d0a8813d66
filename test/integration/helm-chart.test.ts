import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { kubeBinaries } from '../support/kube-binaries.js';
import { grantsOf, type RbacRule, readmeRbacRules } from '../support/readme-rbac.js';

/**
 * charts/rapid-rollback with the real helm (`helm lint --strict`, `helm template`) over each values file in its
 * ci/ folder; every rendered object is checked against the Kubernetes API schemas (kubernetes-models), and the
 * RBAC rules against README.md's table.
 */
const CHART = path.resolve('charts/rapid-rollback');
const VALUES_FILES = readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'));
const NAMESPACE = 'rapid-rollback';
/** The settings that are secrets: they come from existingSecret, never from a value. */
const SECRET_SETTINGS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'API_TOKEN',
  'FASTLY_API_TOKEN',
  'GIT_TOKEN',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'METRICS_TOKEN',
];
const TOKEN_LIKE = /xox[abp]-\w|xapp-\w|-----BEGIN|password\s*[:=]\s*\S/i;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};
/** prometheus-operator's CRD, which kubernetes-models does not have: checked by what it must select instead. */
const POD_MONITOR = 'monitoring.coreos.com/v1/PodMonitor';

interface Container {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { secretRef?: { name: string } }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
}
interface DeploymentObject extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

let helmBin: string;
let helmHome: string;
let helmEnv: NodeJS.ProcessEnv;
const run = promisify(execFile);

beforeAll(async () => {
  helmBin = (await kubeBinaries()).helm;
  helmHome = await mkdtemp(path.join(tmpdir(), 'rr-chart-'));
  helmEnv = {
    PATH: process.env.PATH,
    HOME: helmHome,
    HELM_CACHE_HOME: path.join(helmHome, 'cache'),
    HELM_CONFIG_HOME: path.join(helmHome, 'config'),
    HELM_DATA_HOME: path.join(helmHome, 'data'),
  };
});

afterAll(async () => {
  await rm(helmHome, { recursive: true, force: true });
});

function helm(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(helmBin, args, { env: helmEnv, timeout: 20_000 });
}

async function render(...args: string[]): Promise<KubeObject[]> {
  const { stdout } = await helm('template', 'rr', CHART, '--namespace', NAMESPACE, ...args);
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** Values as the chart sees them: the file's, over values.yaml's. */
async function valuesOf(file: string): Promise<(key: string) => unknown> {
  const defaults = parse(await readFile(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const own = parse(await readFile(path.join(CHART, 'ci', file), 'utf8')) as Record<string, unknown>;
  const at = (root: unknown, key: string) =>
    key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], root);
  return (key) => at(own, key) ?? at(defaults, key);
}

function deployments(objects: KubeObject[]): DeploymentObject[] {
  return objects.filter((o): o is DeploymentObject => o.kind === 'Deployment');
}

describe.each(VALUES_FILES)('the chart with ci/%s', (file) => {
  let objects: KubeObject[];
  let value: (key: string) => unknown;

  beforeAll(async () => {
    [objects, value] = await Promise.all([render('-f', path.join(CHART, 'ci', file)), valuesOf(file)]);
  });

  it('passes helm lint --strict', async () => {
    const { stdout } = await helm('lint', '--strict', CHART, '-f', path.join(CHART, 'ci', file));
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('renders only objects the Kubernetes API schemas accept, and no Secret', () => {
    for (const object of objects) {
      const key = `${object.apiVersion}/${object.kind}`;
      if (key === POD_MONITOR) continue;
      const model = MODELS[key];
      expect(model, `${key} ${object.metadata.name} has a schema here`).toBeDefined();
      expect(() => model && new model(object as never).validate(), `${key} ${object.metadata.name}`).not.toThrow();
    }
    expect(objects.map((o) => o.kind)).not.toContain('Secret');
  });

  it('runs an app and a worker Deployment, non-root on a read-only root filesystem, probed on /healthz and /readyz', () => {
    const found = deployments(objects);
    expect(found.map((d) => d.spec.template.spec.containers[0]?.args)).toEqual([['app'], ['worker']]);
    expect(found.map((d) => d.spec.replicas)).toEqual([value('app.replicas'), value('worker.replicas')]);
    for (const deployment of found) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        const port = container.ports?.find((p) => p.name === 'http');
        expect(port?.containerPort).toBe(value('port'));
        expect(container.env).toContainEqual({ name: 'PORT', value: String(value('port')) });
        expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(container.resources?.requests?.memory).toBeDefined();
        expect(container.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it('mounts rollback.yml from the ConfigMap, and emptyDirs where the bot writes', () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
    expect(configMap.data['rollback.yml']).toBe(value('rollbackYml'));
    for (const deployment of deployments(objects)) {
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
      const volumeAt = (dir: string) => {
        const mount = container?.volumeMounts?.find((m) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`));
        return { mount, volume: pod.volumes?.find((v) => v.name === mount?.name) };
      };
      expect(env.ROLLBACK_CONFIG).toBe('/config/rollback.yml');
      expect(volumeAt('/config/rollback.yml')).toMatchObject({
        mount: { readOnly: true },
        volume: { configMap: { name: configMap.metadata.name } },
      });
      for (const dir of [env.GIT_CACHE_DIR ?? '(GIT_CACHE_DIR unset)', '/tmp', env.HELM_CACHE_HOME ?? '']) {
        expect(volumeAt(dir).volume?.emptyDir, `${deployment.metadata.name}: ${dir} is writable`).toBeDefined();
      }
      expect(deployment.spec.template.metadata.annotations?.['checksum/rollback-yml']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('takes every secret from existingSecret, and no values file or rendered object holds one', async () => {
    for (const deployment of deployments(objects)) {
      const [container] = deployment.spec.template.spec.containers;
      expect(container?.envFrom).toEqual([{ secretRef: { name: value('existingSecret') } }]);
      const named = (container?.env ?? []).map((e) => e.name);
      expect(named.filter((name) => SECRET_SETTINGS.includes(name))).toEqual([]);
    }
    const texts = [
      JSON.stringify(objects),
      await readFile(path.join(CHART, 'ci', file), 'utf8'),
      await readFile(path.join(CHART, 'values.yaml'), 'utf8'),
    ];
    for (const text of texts) expect(text).not.toMatch(TOKEN_LIKE);
  });

  it('gives each Deployment a PodDisruptionBudget selecting its pods', () => {
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget') as (KubeObject & {
      spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    })[];
    expect(budgets.map((b) => b.spec.selector.matchLabels)).toEqual(
      deployments(objects).map((d) => d.spec.selector.matchLabels),
    );
    for (const budget of budgets) expect(budget.spec.maxUnavailable).toBe(value('podDisruptionBudget.maxUnavailable'));
  });

  it("grants exactly README's RBAC table (and the values' extra rules) where it says, and nothing for Fastly only", async () => {
    const scope = value('rbac.scope');
    const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole') as (KubeObject & {
      rules: RbacRule[];
    })[];
    const bindings = objects.filter(
      (o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding',
    ) as (KubeObject & {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    })[];
    const account = objects.find((o) => o.kind === 'ServiceAccount') as KubeObject & {
      automountServiceAccountToken: boolean;
    };
    const pods = deployments(objects).map((d) => d.spec.template.spec);
    for (const pod of pods) expect(pod.serviceAccountName).toBe(account.metadata.name);
    if (scope === 'none') {
      expect(roles).toEqual([]);
      expect(bindings).toEqual([]);
      expect(account.automountServiceAccountToken).toBe(false);
      for (const pod of pods) expect(pod.automountServiceAccountToken).toBe(false);
      return;
    }
    expect(account.automountServiceAccountToken).toBe(true);
    const expected = grantsOf([
      ...(await readmeRbacRules()),
      ...((value('rbac.extraRules') as RbacRule[] | undefined) ?? []),
    ]);
    expect(expected.length).toBeGreaterThan(10);
    for (const role of roles)
      expect(grantsOf(role.rules), `${role.kind} in ${role.metadata.namespace ?? 'the cluster'}`).toEqual(expected);
    const listed = value('rbac.namespaces') as string[];
    const namespaces = scope === 'cluster' ? [undefined] : listed.length > 0 ? listed : [NAMESPACE];
    expect(roles.map((r) => [r.kind, r.metadata.namespace])).toEqual(
      namespaces.map((ns) => [scope === 'cluster' ? 'ClusterRole' : 'Role', ns]),
    );
    for (const [i, binding] of bindings.entries()) {
      expect(binding.metadata.namespace).toBe(roles[i]?.metadata.namespace);
      expect(binding.roleRef).toMatchObject({ kind: roles[i]?.kind, name: roles[i]?.metadata.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: NAMESPACE }]);
    }
  });

  it('hands the bot an environment and a rollback.yml it starts with', async () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
    const dir = await mkdtemp(path.join(tmpdir(), 'rr-chart-config-'));
    try {
      const rollbackYml = path.join(dir, 'rollback.yml');
      await writeFile(rollbackYml, configMap.data['rollback.yml'] ?? '');
      // What the Secret would add: a Socket Mode app with every token a target may need.
      const secret = { SLACK_BOT_TOKEN: 'xoxb-1-test', SLACK_APP_TOKEN: 'xapp-1-test', FASTLY_API_TOKEN: 'test' };
      for (const deployment of deployments(objects)) {
        const [container] = deployment.spec.template.spec.containers;
        const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
        const mode = container?.args?.[0] as 'app' | 'worker';
        const config = loadConfig({ ...env, ...secret }, { mode, file: rollbackYml });
        expect(config.slack.port).toBe(value('port'));
        expect(config.gitCacheDir).toBe('/var/cache/rapid-rollback/git');
        const hosts = value('redis.sentinel.hosts') as string[];
        if (hosts.length > 0) {
          expect(env.REDIS_SENTINELS).toBe(hosts.join(','));
          expect(env.REDIS_SENTINEL_MASTER).toBe(value('redis.sentinel.masterName'));
        } else {
          expect(env.REDIS_URL).toBe(value('redis.url'));
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('adds a PodMonitor only when asked, scraping both Deployments on the http port', () => {
    const monitors = objects.filter((o) => `${o.apiVersion}/${o.kind}` === POD_MONITOR) as (KubeObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: { port: string; path: string; authorization?: unknown }[];
      };
    })[];
    expect(monitors.length).toBe(value('metrics.podMonitor.enabled') ? 1 : 0);
    for (const monitor of monitors) {
      for (const deployment of deployments(objects)) {
        expect(deployment.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      }
      expect(monitor.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
      if (value('metrics.podMonitor.bearerTokenFromSecret')) {
        expect(monitor.spec.podMetricsEndpoints[0]?.authorization).toEqual({
          type: 'Bearer',
          credentials: { name: value('existingSecret'), key: 'METRICS_TOKEN' },
        });
      }
    }
  });
});

describe('the chart', () => {
  const minimal = ['--set-string', 'rollbackYml=targets: {}'];

  it('refuses to render without existingSecret, saying how to make one', async () => {
    const failure = await render(...minimal).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(failure).toContain('existingSecret is required: create a Secret with the bot');
    expect(failure).toContain('kubectl create secret generic rapid-rollback');
  });

  it('restarts the pods when rollback.yml changes, and only then', async () => {
    const checksums = async (yml: string, replicas: number) =>
      deployments(
        await render(
          '--set',
          'existingSecret=s',
          '--set',
          `worker.replicas=${replicas}`,
          '--set-string',
          `rollbackYml=${yml}`,
        ),
      ).map((d) => d.spec.template.metadata.annotations?.['checksum/rollback-yml']);
    const [first, same, changed] = await Promise.all([
      checksums('approvers: [U1]', 2),
      checksums('approvers: [U1]', 5),
      checksums('approvers: [U2]', 2),
    ]);
    expect(same).toEqual(first);
    expect(changed?.[0]).not.toBe(first?.[0]);
  });

  it("is the package's version", async () => {
    const chart = parse(await readFile(path.join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });
});
