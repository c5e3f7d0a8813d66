import { z } from 'zod';
import { driftIntervalSchema, durationSchema } from '../../config/rollback-file.js';
import { gitSettingsSchema } from '../../git/schema.js';
import { gitopsSchema, kubeName, labelSelector, verifySchema } from '../kube-access/target-schema.js';

/** One `kind: helm` entry under `targets:` in rollback.yml. */
export const helmTargetSchema = z
  .object({
    kind: z.literal('helm'),
    release: kubeName,
    namespace: kubeName,
    context: z.string().min(1).optional(),
    /** What to watch, as kind/name; default: every Deployment the release renders. */
    workloads: z
      .array(z.string().regex(/^deployment\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be deployment/<name>'))
      .optional(),
    /** Pods whose images are checked; default: each Deployment's own selector. */
    podSelector: labelSelector.optional(),
    timeout: durationSchema.default(300_000),
    verify: verifySchema.optional(),
    /** Runbook step 5: offered after a verified rollback, never run automatically. */
    migration: z
      .object({ podSelector: labelSelector, container: kubeName, command: z.array(z.string().min(1)).min(1) })
      .strict()
      .optional(),
    description: z.string().optional(),
    /** Restore symmetry with git after a rollback (src/git). */
    git: gitSettingsSchema.optional(),
    /** Argo CD or Flux: suspend it during a rollback (default no); global `gitops:` fills what is not set here. */
    gitops: gitopsSchema.prefault({}),
    /** How often the drift watch reads this target while it is frozen; default: the file's driftCheckEvery. */
    driftCheckEvery: driftIntervalSchema.optional(),
  })
  .strict();

export type HelmTarget = z.infer<typeof helmTargetSchema>;
