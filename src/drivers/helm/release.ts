import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { V1Secret } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { valueDigests } from './values-keys.js';

/** The part of Helm's release record (helm pkg/release) the bot reads. */
const releaseSchema = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  version: z.number().int().positive(),
  info: z.object({
    status: z.string(),
    description: z.string().optional().default(''),
    last_deployed: z.string().optional(),
  }),
  chart: z
    .object({
      metadata: z
        .object({
          name: z.string().optional(),
          version: z.string().optional(),
          appVersion: z.string().optional(),
          annotations: z.record(z.string(), z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  manifest: z.string().optional().default(''),
  /** The values the revision was installed or upgraded with (`helm get values`): read as digests only. */
  config: z.record(z.string(), z.unknown()).nullish(),
  labels: z.record(z.string(), z.string()).optional(),
});

interface Workload {
  kind: string;
  name: string;
  images: string[];
  selector: Record<string, string>;
}

export interface HelmRevision {
  revision: number;
  status: string;
  description: string;
  deployedAt: string | undefined;
  chart: string;
  chartVersion: string;
  appVersion: string;
  workloads: Workload[];
  images: string[];
  /** Release labels as `label:<key>`, chart annotations as `annotation:<key>`. */
  meta: Record<string, string>;
  /** Its user-supplied values as key path → digest of the value (values-keys.ts); never the values. */
  valueDigests: Record<string, string>;
  /** A digest of what the revision deploys (chart, versions, rendered manifest): equal for a rollback and its source. */
  content: string;
  /**
   * The revision a failed `helm rollback` restored. Helm replaces the description "Rollback to N" of a
   * rollback that failed ("Rollback \"app\" failed: …", "Release \"app\" failed: …" when --wait timed out),
   * so the source is found by content: the nearest earlier revision with the same chart and manifest.
   */
  failedRollbackOf?: number | undefined;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * Decodes `data.release` of a `sh.helm.release.v1.*` Secret. The API returns Secret data base64-encoded;
 * inside is Helm's own base64 of the gzip of the release JSON (helm pkg/storage/driver/util.go).
 */
function decodeRelease(secretData: string): HelmRevision {
  const helmEncoded = Buffer.from(secretData, 'base64').toString('utf8');
  let bytes = Buffer.from(helmEncoded, 'base64');
  if (bytes.subarray(0, 2).equals(GZIP_MAGIC)) bytes = gunzipSync(bytes);
  const release = releaseSchema.parse(JSON.parse(bytes.toString('utf8')));
  const workloads = workloadsOf(release.manifest);
  const chart = release.chart?.metadata;
  return {
    revision: release.version,
    status: release.info.status,
    description: release.info.description,
    deployedAt: release.info.last_deployed,
    chart: release.chart?.metadata?.name ?? '?',
    chartVersion: release.chart?.metadata?.version ?? '?',
    appVersion: release.chart?.metadata?.appVersion ?? '',
    workloads,
    images: [...new Set(workloads.flatMap((w) => w.images))],
    meta: {
      ...Object.fromEntries(Object.entries(release.labels ?? {}).map(([k, v]) => [`label:${k}`, v])),
      ...Object.fromEntries(
        Object.entries(release.chart?.metadata?.annotations ?? {}).map(([k, v]) => [`annotation:${k}`, v]),
      ),
    },
    valueDigests: valueDigests(release.config ?? {}),
    content: createHash('sha256')
      .update(JSON.stringify([chart?.name, chart?.version, chart?.appVersion, release.manifest]))
      .digest('hex'),
  };
}

const FAILED_ROLLBACK = /^(Rollback|Release) ".*" failed: /s;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const containerSchema = z.object({ image: z.string().optional() });
const workloadSchema = z.object({
  kind: z.string(),
  metadata: z.object({ name: z.string() }),
  spec: z
    .object({
      selector: z.object({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
      template: z.object({ spec: z.object({ containers: z.array(containerSchema).optional() }).optional() }).optional(),
    })
    .optional(),
});

/** The Deployments (and StatefulSets, DaemonSets) a rendered manifest creates, with their images. */
function workloadsOf(manifest: string): Workload[] {
  const workloads: Workload[] = [];
  for (const document of parseAllDocuments(manifest)) {
    if (!('toJS' in document)) continue;
    const parsed = workloadSchema.safeParse(document.toJS());
    if (!parsed.success || !WORKLOAD_KINDS.has(parsed.data.kind)) continue;
    workloads.push({
      kind: parsed.data.kind,
      name: parsed.data.metadata.name,
      images: (parsed.data.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '?'),
      selector: parsed.data.spec?.selector?.matchLabels ?? {},
    });
  }
  return workloads;
}

/** Every revision of a release from its Secrets, newest first; Secrets that do not decode are skipped. */
export function releaseHistory(secrets: V1Secret[]): { revisions: HelmRevision[]; unreadable: string[] } {
  const revisions: HelmRevision[] = [];
  const unreadable: string[] = [];
  for (const secret of secrets) {
    const data = secret.data?.release;
    try {
      if (!data) throw new Error('no data.release');
      revisions.push(decodeRelease(data));
    } catch {
      unreadable.push(secret.metadata?.name ?? '?');
    }
  }
  revisions.sort((a, b) => b.revision - a.revision);
  revisions.forEach((revision, index) => {
    if (revision.status !== 'failed' || !FAILED_ROLLBACK.test(revision.description)) return;
    revision.failedRollbackOf = revisions
      .slice(index + 1)
      .find((older) => older.content === revision.content)?.revision;
  });
  return { revisions, unreadable };
}
