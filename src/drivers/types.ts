import type { z } from 'zod';
import type { TargetConfig } from '../core/config-types.js';
import type { DriverEnvironment, RollbackDriver } from '../core/ports/driver.js';
import type { Logger } from '../log.js';

/**
 * What each provider folder's descriptor.ts exports: all that loading rollback.yml needs (metadata, the
 * target schema, the settings it requires) and `load()`, which imports the implementation.
 *
 * A descriptor is imported for every provider at start-up, an implementation only when rollback.yml has
 * a target of its kind: so a descriptor and its schema must not import the provider's client
 * (`@kubernetes/client-node` alone is about 60 MiB of resident memory, `fastly` 40 MiB).
 */
export interface DriverModule<Schema extends z.ZodType = z.ZodType> {
  readonly kind: string;
  readonly displayName: string;
  /** Validates one entry of `targets:` in rollback.yml whose `kind` is this driver's. */
  readonly targetSchema: Schema;
  /**
   * Optional: top-level blocks of rollback.yml this kind's targets take as defaults (`gitops:`), each with the
   * schema that checks the block on its own. A target's own block wins, field by field. A target of a kind that
   * does not name a block may not have it.
   */
  readonly sharedSettings?: Readonly<Record<string, z.ZodType>>;
  /** Says which environment settings this driver needs, so start-up can name a missing one. */
  requiredEnv(environment: DriverEnvironment): string | undefined;
  /** Imports the implementation (the folder's index.ts); Node loads it once however often this is called. */
  load(): Promise<DriverFactory<Schema>>;
  /**
   * Optional: what `rapid-rollback doctor` checks for this kind besides each target's live state (that the
   * helm binary runs, that kubeconfig contexts exist). A check several kinds name runs once for all of them.
   */
  readonly doctorChecks?: readonly DoctorCheck[];
}

/**
 * One check of `rapid-rollback doctor`, run once for every target whose kind names it. Its module is
 * imported with the descriptor, at start-up: what it needs of the provider's client it imports when it runs.
 */
export interface DoctorCheck {
  run(targets: readonly TargetConfig[], environment: DriverEnvironment): Promise<DoctorFinding[]>;
}

/** One line of `doctor`: what was looked at and what was found; a failure carries its error for doctor to explain. */
export type DoctorFinding =
  | { check: string; status: 'ok' | 'note'; detail: string; fix?: string | undefined }
  | { check: string; status: 'failed'; error: unknown };

/**
 * What `DriverModule.load()` resolves to: builds the driver of one target. It does not import its
 * descriptor (which imports it): it names its kind, and the registry test checks the two agree.
 */
export interface DriverFactory<Schema extends z.ZodType = z.ZodType> {
  readonly kind: string;
  create(name: string, target: z.infer<Schema>, environment: DriverEnvironment, log: Logger): RollbackDriver;
}
