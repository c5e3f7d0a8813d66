import type { Logger } from '../log.js';
import type { TargetConfig } from './config-types.js';
import { RollbackError } from './errors.js';
import { closestName } from './names.js';
import type { DriverContext, RollbackDriver } from './ports/driver.js';
import { text } from './text.js';

/** The configured targets and their drivers: a name typed by a person becomes a driver, or a clear refusal. */
export class TargetDrivers {
  constructor(
    private readonly targets: readonly TargetConfig[],
    private readonly drivers: ReadonlyMap<string, RollbackDriver>,
    private readonly readTimeoutMs: number,
  ) {}

  names(): string[] {
    return this.targets.map((t) => t.name);
  }

  configs(): readonly TargetConfig[] {
    return this.targets;
  }

  driver(target: string): RollbackDriver {
    const driver = this.drivers.get(target);
    if (driver) return driver;
    const names = this.names();
    const guess = closestName(target, names);
    throw new RollbackError(
      'TARGET_UNKNOWN',
      text`There is no target called "${target}".${guess ? ` Did you mean \`${guess}\`?` : ''}`,
      { hint: `Known targets: ${names.map((n) => `\`${n}\``).join(', ')}. Nothing was queued.` },
    );
  }

  /** A context for reads while planning or answering a query: aborted after readTimeoutMs. */
  readContext(log: Logger): DriverContext & { done(): void } {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new RollbackError('PROVIDER_TIMEOUT', 'The provider took too long to answer.')),
      this.readTimeoutMs,
    );
    return { log, signal: controller.signal, report: () => undefined, done: () => clearTimeout(timer) };
  }
}
