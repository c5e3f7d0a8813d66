import { z } from 'zod';
import { driftIntervalSchema } from '../../config/rollback-file.js';
import { gitSettingsSchema } from '../../git/schema.js';

/** One `kind: fastly` entry under `targets:` in rollback.yml. */
export const fastlyTargetSchema = z
  .object({
    kind: z.literal('fastly'),
    serviceId: z
      .string({ error: 'is required: the Fastly service ID (Fastly UI, or `fastly service list`)' })
      .regex(/^[A-Za-z0-9]{10,40}$/, 'must be a Fastly service ID such as SU1Z0isxPaozGVKXdv0eY'),
    description: z.string().optional(),
    /** Restore symmetry with git after a rollback (src/git). */
    git: gitSettingsSchema.optional(),
    /** How often the drift watch reads this target while it is frozen; default: the file's driftCheckEvery. */
    driftCheckEvery: driftIntervalSchema.optional(),
  })
  .strict();

export type FastlyTarget = z.infer<typeof fastlyTargetSchema>;
