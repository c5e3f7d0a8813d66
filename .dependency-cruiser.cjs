/**
 * The boundaries of the codebase (arrows point down only: front ends -> core <- adapters), checked on every
 * `npm test` (`npm run deps`). Type-only imports count: a type from Slack in core couples core to Slack too.
 *
 * Folders under src/drivers/ are providers, except the shared ones named in SHARED_DRIVER_FOLDERS (code
 * several providers use; test/unit/driver-registry.test.ts names the same folders).
 */
const SHARED_DRIVER_FOLDERS = ['kube-access', 'shared'];
const provider = `^src/drivers/(?!(?:${SHARED_DRIVER_FOLDERS.join('|')})/)[^/]+/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-adapter',
      comment:
        'core owns the rollback and defines its ports (core/ports/); front ends, adapters, drivers and the helpers they use plug into it, never the other way.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/(slack|cli|http|queue|store|drivers|git|verify|metrics)/' },
    },
    {
      name: 'drivers-import-no-front-end-or-adapter',
      comment: 'a driver never calls Slack, BullMQ, Redis or the CLI: it implements core/ports/driver.ts and returns facts.',
      severity: 'error',
      from: { path: '^src/drivers/' },
      to: { path: '^src/(slack|cli|http|queue|store|metrics)/' },
    },
    {
      name: 'provider-imports-no-other-provider',
      comment: `one provider never reaches into another's folder; what several share lives in ${SHARED_DRIVER_FOLDERS.join(' or ')}.`,
      severity: 'error',
      from: { path: '^src/drivers/([^/]+)/' },
      to: {
        path: provider,
        pathNot: '^src/drivers/$1/',
      },
    },
    {
      name: 'shared-driver-code-imports-no-provider',
      comment: 'shared provider code is below every provider, so that any provider can use it.',
      severity: 'error',
      from: { path: `^src/drivers/(${SHARED_DRIVER_FOLDERS.join('|')})/` },
      to: { path: provider },
    },
    {
      name: 'front-ends-import-no-provider',
      comment:
        'a front end calls core and the driver registry, never a provider: adding a provider touches no front end, adding a front end no provider.',
      severity: 'error',
      from: { path: '^src/(slack|cli|http)/' },
      to: { path: provider },
    },
    {
      name: 'front-ends-import-no-adapter',
      comment:
        'Slack and the CLI render what core returns; Redis and BullMQ stay behind the ports (store/ and queue/ turn their own failures into coded errors; wiring.ts builds them).',
      severity: 'error',
      from: { path: '^src/(slack|cli|http)/' },
      to: { path: '^src/(store|queue|metrics)/' },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other cannot be read, tested or loaded one at a time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
