import { z } from 'zod';
import { durationSchema } from '../../config/rollback-file.js';
import { gitSettingsSchema } from '../../git/schema.js';

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

export const kubernetesTargetSchema = z
  .object({
    kind: z.literal('kubernetes'),
    namespace: kubeName,
    deployment: kubeName,
    context: z.string().min(1).optional(),
    podSelector: labelSelector.optional(),
    timeout: durationSchema.default(300_000),
    verify: verifySchema.optional(),
    description: z.string().optional(),
    /** Restore symmetry with git after a rollback (src/git). */
    git: gitSettingsSchema.optional(),
  })
  .strict();

export type KubernetesTarget = z.infer<typeof kubernetesTargetSchema>;
export type VerifySpec = z.infer<typeof verifySchema>;
