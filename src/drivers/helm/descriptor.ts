import { kubeContextsCheck } from '../kube-access/doctor-checks.js';
import { gitopsSchema } from '../kube-access/target-schema.js';
import type { DriverModule } from '../types.js';
import { helmBinaryCheck } from './doctor-checks.js';
import { helmTargetSchema } from './target-schema.js';

/** What config loading needs; the driver and the Kubernetes client load only for a `kind: helm` target. */
export const helmDescriptor: DriverModule<typeof helmTargetSchema> = {
  kind: 'helm',
  displayName: 'Helm release',
  targetSchema: helmTargetSchema,
  requiredEnv: () => undefined,
  sharedSettings: { gitops: gitopsSchema },
  doctorChecks: [helmBinaryCheck, kubeContextsCheck],
  load: async () => (await import('./index.js')).helmDriver,
};
