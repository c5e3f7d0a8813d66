import type { TargetConfig } from '../core/config-types.js';
import { RollbackError } from '../core/errors.js';
import type { DriverEnvironment, RollbackDriver } from '../core/ports/driver.js';
import type { Logger } from '../log.js';
import { fastlyDescriptor } from './fastly/descriptor.js';
import { helmDescriptor } from './helm/descriptor.js';
import { kubernetesDescriptor } from './kubernetes/descriptor.js';
import type { DriverModule } from './types.js';

/**
 * Every provider, by the `kind` used in rollback.yml. Adding a provider = one folder + one line here.
 * Only descriptors are imported here; each provider's implementation loads when a target needs it.
 */
export const drivers: readonly DriverModule[] = [fastlyDescriptor, helmDescriptor, kubernetesDescriptor];

export function descriptorOf(kind: string): DriverModule | undefined {
  return drivers.find((d) => d.kind === kind);
}

/** The driver of one target, its provider's implementation loaded on first need. */
export async function createDriver(
  target: TargetConfig,
  environment: DriverEnvironment,
  log: Logger,
): Promise<RollbackDriver> {
  const module = descriptorOf(target.kind);
  if (!module) throw new RollbackError('CONFIG_INVALID', `unknown kind ${target.kind}`);
  const factory = await module.load();
  // settings were parsed by this driver's schema in loadConfig (durations already in ms): not again.
  return factory.create(target.name, target.settings as never, environment, log.child({ target: target.name }));
}
