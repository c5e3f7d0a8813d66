import { fastlyDescriptor } from './fastly/descriptor.js';
import { helmDescriptor } from './helm/descriptor.js';
import { kubernetesDescriptor } from './kubernetes/descriptor.js';
import type { DriverModule } from './types.js';

/**
 * Every provider, by the `kind` used in rollback.yml. Adding a provider = one folder + one line here.
 * Only descriptors are imported here; each provider's implementation loads when a target needs it.
 */
export const drivers: readonly DriverModule[] = [fastlyDescriptor, helmDescriptor, kubernetesDescriptor];

export function driverFor(kind: string): DriverModule | undefined {
  return drivers.find((d) => d.kind === kind);
}
