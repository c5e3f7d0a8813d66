import { fastlyDriver } from './fastly/index.js';
import { helmDriver } from './helm/index.js';
import { kubernetesDriver } from './kubernetes/index.js';
import type { DriverModule } from './types.js';

/** Every provider, by the `kind` used in rollback.yml. Adding a provider = one folder + one line here. */
export const drivers: readonly DriverModule[] = [fastlyDriver, helmDriver, kubernetesDriver];

export function driverFor(kind: string): DriverModule | undefined {
  return drivers.find((d) => d.kind === kind);
}
