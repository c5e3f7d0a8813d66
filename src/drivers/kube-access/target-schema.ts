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
