import { z } from 'zod';
import { durationSchema } from '../../config/rollback-file.js';

/* rollback.yml fields every Kubernetes target has, whether a Deployment or a Helm release. */

/** A DNS-1123 name: what Kubernetes accepts for namespaces, Deployments and Helm releases. */
export const kubeName = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    'must be a Kubernetes name: lower-case letters, digits and "-", at most 63',
  );

export const labelSelector = z
  .string()
  .regex(
    /^[A-Za-z0-9._/-]+(!?=[A-Za-z0-9._-]*)?(,[A-Za-z0-9._/-]+(!?=[A-Za-z0-9._-]*)?)*$/,
    'must be a label selector such as app=api',
  );

/** Optional checks after the rollout (runbook step 4). */
export const verifySchema = z
  .object({
    url: z.url({ error: 'must be a URL such as https://api.example.com/healthz' }).optional(),
    prometheus: z
      .object({
        url: z.url({ error: 'must be the Prometheus base URL, e.g. http://prometheus:9090' }),
        query: z.string().min(1),
        below: z.number().nonnegative(),
        within: durationSchema.default(120_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export type VerifySpec = z.infer<typeof verifySchema>;

/**
 * `gitops:` on a Helm or Kubernetes target, and at the top of rollback.yml for all of them (a target's own block
 * wins, field by field). Whether Argo CD or Flux manages a target is found out whatever this says; it only
 * decides whether a rollback suspends the controller first, and where Argo CD's Applications live.
 */
export const gitopsSchema = z
  .object({
    /** Suspend the managing controller right before the change (Argo CD: automated sync; Flux: spec.suspend). */
    suspend: z
      .boolean({ error: 'must be true or false: whether a rollback suspends the GitOps controller first' })
      .default(false),
    argocd: z
      .object({
        /** Where Argo CD's Applications live (its control-plane namespace). */
        namespace: kubeName.default('argocd'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type GitOpsSettings = z.infer<typeof gitopsSchema>;
