import type { V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import type { GitOpsOwner } from './gitops.js';
import { FIELD_MANAGER } from './kube-api.js';

/*
 * Who last wrote a Deployment's pod template, from the API server's own bookkeeping (metadata.managedFields:
 * each writer's fields, with the time it last changed one), for the drift warning.
 */

/** "02:31 UTC". */
export function utcClock(at: Date): string {
  return `${at.toISOString().slice(11, 16)} UTC`;
}

function timeOf(entry: V1ManagedFieldsEntry): Date | undefined {
  const at: unknown = entry.time;
  const date = at instanceof Date ? at : typeof at === 'string' ? new Date(at) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

function touchesTemplate(entry: V1ManagedFieldsEntry): boolean {
  const fields = entry.fieldsV1 as { 'f:spec'?: { 'f:template'?: unknown } } | undefined;
  return entry.subresource !== 'status' && fields?.['f:spec']?.['f:template'] !== undefined;
}

/** A field manager as people know it; GitOps controllers with the object they act for. */
export function managerWords(manager: string, owners: readonly GitOpsOwner[]): string {
  const owner = (kind: GitOpsOwner['kind']) => owners.find((o) => o.kind === kind);
  switch (manager) {
    case 'argocd-controller': {
      const app = owner('Application');
      return app ? `Argo CD (application ${app.name})` : 'Argo CD';
    }
    case 'kustomize-controller': {
      const kustomization = owner('Kustomization');
      return `Flux kustomize-controller${kustomization ? ` (Kustomization ${kustomization.name})` : ''}`;
    }
    case 'helm-controller': {
      const release = owner('HelmRelease');
      return `Flux helm-controller${release ? ` (HelmRelease ${release.name})` : ''}`;
    }
    case FIELD_MANAGER:
      return 'rapid-rollback (a rollback)';
    default:
      return manager.startsWith('kubectl') ? `kubectl (${manager})` : manager;
  }
}

/**
 * The newest writer of the pod template: "by Argo CD (application web), Update at 02:31 UTC". Undefined when the
 * API server keeps no managed fields (older clusters) or none touch the template.
 */
export function templateWriter(deployment: V1Deployment, owners: readonly GitOpsOwner[]): string | undefined {
  const newest = newestTemplateWrite(deployment);
  if (!newest?.entry.manager) return undefined;
  const operation = newest.entry.operation ? `${newest.entry.operation} ` : '';
  return `by ${managerWords(newest.entry.manager, owners)}, ${operation}at ${utcClock(newest.at)}`;
}

/** When the pod template was last written; undefined when the API server keeps no managed fields for it. */
export function templateWrittenAt(deployment: V1Deployment): Date | undefined {
  return newestTemplateWrite(deployment)?.at;
}

function newestTemplateWrite(deployment: V1Deployment): { entry: V1ManagedFieldsEntry; at: Date } | undefined {
  let newest: { entry: V1ManagedFieldsEntry; at: Date } | undefined;
  for (const entry of deployment.metadata?.managedFields ?? []) {
    const at = timeOf(entry);
    if (!entry.manager || !at || !touchesTemplate(entry)) continue;
    if (!newest || at.getTime() >= newest.at.getTime()) newest = { entry, at };
  }
  return newest;
}
