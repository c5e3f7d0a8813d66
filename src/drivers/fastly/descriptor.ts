import type { DriverModule } from '../types.js';
import { fastlyTargetSchema } from './target-schema.js';

/** What config loading needs; the driver and the `fastly` package load only for a `kind: fastly` target. */
export const fastlyDescriptor: DriverModule<typeof fastlyTargetSchema> = {
  kind: 'fastly',
  displayName: 'Fastly service',
  targetSchema: fastlyTargetSchema,
  requiredEnv: (environment) =>
    environment.fastly
      ? undefined
      : 'FASTLY_API_TOKEN is missing: create an API token with global (or engineer) scope in Fastly under Account > API tokens.',
  load: async () => (await import('./index.js')).fastlyDriver,
};
