/**
 * rollback.yml as the tests and the benchmark write it. Kept apart from the harness, which loads the
 * whole app into the process: a test that runs the bot or the CLI as a child process only needs the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RollbackYml {
  incidentChannel: string;
  approvers: string[];
  /** Other top-level settings, one a line: `requestTtl: 15m`. */
  settings?: string[];
  /** The lines under `targets:`, indented; fastlyTarget() gives one target's. */
  targets: string[];
}

/** A Fastly target's lines under `targets:`; `extra` adds settings of its own (indented by four). */
export function fastlyTarget(name: string, serviceId: string, extra: string[] = []): string[] {
  return [`  ${name}:`, '    kind: fastly', `    serviceId: ${serviceId}`, ...extra];
}

/** Writes `<dir>/rollback.yml` and returns its path. */
export function writeRollbackYml(dir: string, config: RollbackYml): string {
  const file = join(dir, 'rollback.yml');
  const lines = [
    `incidentChannel: ${config.incidentChannel}`,
    `approvers: [${config.approvers.join(', ')}]`,
    ...(config.settings ?? []),
    'targets:',
    ...config.targets,
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}
