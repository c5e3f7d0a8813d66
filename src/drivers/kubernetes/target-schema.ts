import { z } from 'zod';
import { driftIntervalSchema, durationSchema } from '../../config/rollback-file.js';
import { gitSettingsSchema } from '../../git/schema.js';
import { gitopsSchema, kubeName, labelSelector, verifySchema } from '../kube-access/target-schema.js';

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
    /** Argo CD or Flux: suspend it during a rollback (default no); global `gitops:` fills what is not set here. */
    gitops: gitopsSchema.prefault({}),
    /** How often the drift watch reads this target while it is frozen; default: the file's driftCheckEvery. */
    driftCheckEvery: driftIntervalSchema.optional(),
  })
  .strict();

export type KubernetesTarget = z.infer<typeof kubernetesTargetSchema>;
