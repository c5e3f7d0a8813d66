/**
 * Helm release history as helm's Secret storage driver keeps it (helm pkg/storage/driver/secrets.go,
 * pkg/release/v1): one Secret `sh.helm.release.v1.<name>.v<rev>` of type `helm.sh/release.v1` per
 * revision, labelled owner/name/status/version, whose data.release is base64(gzip(JSON release)).
 * The chart has a single template rendering one Deployment, named after the release.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KubeObject } from './object-store.js';

export interface HelmRevisionSpec {
  image: string;
  status: 'superseded' | 'deployed' | 'failed' | 'pending-upgrade' | 'pending-rollback';
  replicas?: number;
  /** Defaults to the release's chart version / appVersion. */
  chartVersion?: string;
  appVersion?: string;
  /** More user-supplied values (`helm get values`), beside image and replicaCount. */
  values?: Record<string, unknown>;
}

export interface HelmReleaseSpec {
  name: string;
  namespace: string;
  chart: { name: string; version: string; appVersion: string };
  revisions: HelmRevisionSpec[];
  /** Helm 4 records how a release was applied; unset (a Helm 3 release) means client-side apply. */
  applyMethod?: 'csa' | 'ssa';
}

/** The fields of a decoded release that tests look at. */
export interface HelmReleaseRecord {
  name: string;
  namespace: string;
  version: number;
  status: string;
  description: string;
  chart: string;
  chartVersion: string;
  appVersion: string;
  images: string[];
  manifest: string;
}

export function releaseSecretName(name: string, revision: number): string {
  return `sh.helm.release.v1.${name}.v${revision}`;
}

const TEMPLATE = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: {{ .Chart.Name }}
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: {{ .Values.image | quote }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
`;

/** What `helm template` would print for one revision: the rendered manifest, `---`-separated. */
function renderManifest(spec: HelmReleaseSpec, revision: HelmRevisionSpec): string {
  const chartVersion = revision.chartVersion ?? spec.chart.version;
  const appVersion = revision.appVersion ?? spec.chart.appVersion;
  const c = spec.chart.name;
  const r = spec.name;
  return `---
# Source: ${c}/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${r}
  labels:
    app: ${c}
    app.kubernetes.io/instance: ${r}
    app.kubernetes.io/managed-by: Helm
    app.kubernetes.io/version: "${appVersion}"
    helm.sh/chart: ${c}-${chartVersion}
spec:
  replicas: ${revision.replicas ?? 2}
  selector:
    matchLabels:
      app: ${c}
      app.kubernetes.io/instance: ${r}
  template:
    metadata:
      labels:
        app: ${c}
        app.kubernetes.io/instance: ${r}
    spec:
      containers:
        - name: ${c}
          image: "${revision.image}"
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP`;
}

/** The Deployment of a revision as it lands in the cluster: helm adds its ownership metadata. */
export function renderDeployment(spec: HelmReleaseSpec, revision: HelmRevisionSpec): KubeObject {
  const chartVersion = revision.chartVersion ?? spec.chart.version;
  const appVersion = revision.appVersion ?? spec.chart.appVersion;
  const c = spec.chart.name;
  const selector = { app: c, 'app.kubernetes.io/instance': spec.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: {
        ...selector,
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': appVersion,
        'helm.sh/chart': `${c}-${chartVersion}`,
      },
      annotations: { 'meta.helm.sh/release-name': spec.name, 'meta.helm.sh/release-namespace': spec.namespace },
    },
    spec: {
      replicas: revision.replicas ?? 2,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          containers: [
            { name: c, image: revision.image, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
          ],
        },
      },
    },
  };
}

const DESCRIPTIONS: Record<HelmRevisionSpec['status'], (name: string, n: number) => string> = {
  superseded: (_name, n) => (n === 1 ? 'Install complete' : 'Upgrade complete'),
  deployed: (_name, n) => (n === 1 ? 'Install complete' : 'Upgrade complete'),
  failed: (name) => `Upgrade "${name}" failed: context deadline exceeded`,
  'pending-upgrade': () => 'Preparing upgrade',
  'pending-rollback': (_name, n) => `Rollback to ${Math.max(1, n - 2)}`,
};

function goTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000000Z');
}

export function releaseObject(spec: HelmReleaseSpec, index: number, firstDeployed: Date, deployedAt: Date): KubeObject {
  const revision = spec.revisions[index] as HelmRevisionSpec;
  const version = index + 1;
  const chartVersion = revision.chartVersion ?? spec.chart.version;
  const appVersion = revision.appVersion ?? spec.chart.appVersion;
  return {
    name: spec.name,
    info: {
      first_deployed: goTime(firstDeployed),
      last_deployed: goTime(deployedAt),
      description: DESCRIPTIONS[revision.status](spec.name, version),
      status: revision.status,
    },
    chart: {
      metadata: {
        name: spec.chart.name,
        version: chartVersion,
        description: `A Helm chart for ${spec.chart.name}`,
        apiVersion: 'v2',
        appVersion,
        type: 'application',
      },
      lock: null,
      templates: [{ name: 'templates/deployment.yaml', data: Buffer.from(TEMPLATE).toString('base64') }],
      values: { replicaCount: 2, image: `${spec.chart.name}:${appVersion}` },
      schema: null,
      files: [],
    },
    config: { image: revision.image, replicaCount: revision.replicas ?? 2, ...revision.values },
    manifest: renderManifest(spec, revision),
    version,
    namespace: spec.namespace,
    ...(spec.applyMethod ? { apply_method: spec.applyMethod } : {}),
  };
}

function encodeRelease(release: KubeObject): string {
  return gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
}

function decodeRelease(data: string): KubeObject {
  const raw = Buffer.from(data, 'base64');
  // Helm 2-era releases were stored without gzip; helm still reads both.
  const json = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  return JSON.parse(json.toString('utf8'));
}

/** The release Secret exactly as helm's driver writes it (Create sets createdAt, Update modifiedAt). */
export function releaseSecret(release: KubeObject, namespace: string, updatedAt?: Date): KubeObject {
  const timestampLabel = updatedAt
    ? { modifiedAt: String(Math.floor(updatedAt.getTime() / 1000)) }
    : { createdAt: String(Math.floor(Date.now() / 1000)) };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: releaseSecretName(release.name, release.version),
      namespace,
      labels: {
        ...timestampLabel,
        name: release.name,
        owner: 'helm',
        status: release.info.status,
        version: String(release.version),
      },
    },
    type: 'helm.sh/release.v1',
    // Secret data is bytes; the bytes are helm's base64 text, so JSON carries it base64'd twice.
    data: { release: Buffer.from(encodeRelease(release)).toString('base64') },
  };
}

/** Reads a release Secret back (the inverse of releaseSecret), for assertions. */
export function readReleaseSecret(secret: KubeObject): HelmReleaseRecord {
  const release = decodeRelease(Buffer.from(secret.data?.release ?? '', 'base64').toString('utf8'));
  const images = [...String(release.manifest ?? '').matchAll(/^\s*image:\s*"?([^"\s]+)"?\s*$/gm)].map(
    (m) => m[1] as string,
  );
  return {
    name: release.name,
    namespace: release.namespace,
    version: release.version,
    status: release.info?.status,
    description: release.info?.description ?? '',
    chart: release.chart?.metadata?.name,
    chartVersion: release.chart?.metadata?.version,
    appVersion: release.chart?.metadata?.appVersion,
    images,
    manifest: release.manifest,
  };
}
