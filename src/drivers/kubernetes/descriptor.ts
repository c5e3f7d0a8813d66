import { kubeContextsCheck } from '../kube-access/doctor-checks.js';
import { gitopsSchema } from '../kube-access/target-schema.js';
import type { DriverModule } from '../types.js';
import { kubernetesTargetSchema } from './target-schema.js';

/** What config loading needs; the driver and the Kubernetes client load only for a `kind: kubernetes` target. */
export const kubernetesDescriptor: DriverModule<typeof kubernetesTargetSchema> = {
  kind: 'kubernetes',
  displayName: 'Kubernetes Deployment',
  targetSchema: kubernetesTargetSchema,
  requiredEnv: () => undefined,
  sharedSettings: { gitops: gitopsSchema },
  doctorChecks: [kubeContextsCheck],
  load: async () => (await import('./index.js')).kubernetesDriver,
};
