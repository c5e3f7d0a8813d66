import type { PlanChange } from '../../core/changes.js';
import { RollbackError } from '../../core/errors.js';
import type { DriverContext, LiveState, PlanOptions, RollbackDriver, WriteBudget } from '../../core/ports/driver.js';
import type { Plan, VersionInfo } from '../../core/types.js';
import type { DriverFactory } from '../types.js';
import { FastlyClient, type FastlyService, type FastlyVersion } from './client.js';
import { summariseDiff } from './diff-summary.js';
import { chooseRestoreVersion } from './select-version.js';
import type { FastlyTarget, fastlyTargetSchema } from './target-schema.js';

/** The implementation, loaded by `fastlyDescriptor.load()` (descriptor.ts) only when a target needs it. */
export const fastlyDriver: DriverFactory<typeof fastlyTargetSchema> = {
  kind: 'fastly',
  create(name, target, environment, log) {
    if (!environment.fastly) throw new RollbackError('CONFIG_INVALID', 'FASTLY_API_TOKEN is not set.');
    const client = new FastlyClient({
      token: environment.fastly.token,
      baseUrl: environment.fastly.baseUrl,
      log,
      observeCall: environment.observeCall,
    });
    return new FastlyDriver(name, target, client);
  },
};

function versionInfo(version: FastlyVersion): VersionInfo {
  return {
    id: String(version.number),
    label: `v${version.number}`,
    description: version.comment || undefined,
    meta: { comment: version.comment },
  };
}

export class FastlyDriver implements RollbackDriver {
  readonly kind = 'fastly';
  /** `fastly:<service ID>`: service IDs are unique across Fastly. */
  readonly identity: string;

  constructor(
    private readonly name: string,
    private readonly target: FastlyTarget,
    private readonly client: FastlyClient,
  ) {
    this.identity = `fastly:${target.serviceId}`;
  }

  private resource(service: FastlyService): string {
    return `Fastly service ${service.name} (${service.id})`;
  }

  async live(ctx: DriverContext): Promise<LiveState> {
    const service = await this.client.getService(this.target.serviceId, ctx.signal);
    const active = service.versions.find((v) => v.number === service.activeVersion);
    if (!active) {
      throw new RollbackError('NOTHING_TO_ROLL_BACK', `${service.name} has no active version.`, {
        hint: 'Check the service in the Fastly UI.',
      });
    }
    return { resource: this.resource(service), current: versionInfo(active) };
  }

  async plan(ctx: DriverContext, options: PlanOptions): Promise<Plan> {
    const explicit = options.toVersion === undefined ? undefined : Number(options.toVersion);
    const [service, activations] = await Promise.all([
      this.client.getService(this.target.serviceId, ctx.signal),
      // The history is needed only to find the previous version; an explicit version skips it.
      explicit === undefined ? this.readHistory(ctx) : Promise.resolve(null),
    ]);
    const choice = chooseRestoreVersion(service, activations, explicit);
    const from = versionInfo(choice.from);
    const to = versionInfo(choice.to);
    return {
      target: this.name,
      kind: this.kind,
      resource: this.resource(service),
      identity: this.identity,
      from,
      to,
      selection: choice.selection,
      notes: choice.notes,
      budgetMs: 60_000,
      actionDone: `Activated ${to.label}`,
      steps: [
        `Check that ${from.label} is still the active version of ${service.name}`,
        `Activate ${to.label}`,
        `Read the service back and confirm ${to.label} is active`,
      ],
    };
  }

  private async readHistory(ctx: DriverContext) {
    try {
      return await this.client.listActivations(this.target.serviceId, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      ctx.log.warn({ err: error }, 'fastly activation history unreadable; inferring the previous version');
      return null;
    }
  }

  /** Who activated `version` last, from the audit log: "activated by Fastly user <id> at 02:31 UTC". */
  async changedBy(ctx: DriverContext, version: VersionInfo): Promise<string | undefined> {
    const activations = await this.client.listActivations(this.target.serviceId, ctx.signal);
    const newest = activations.find((a) => String(a.version) === version.id);
    if (!newest?.userId) return undefined;
    const at = new Date(newest.at);
    const when = Number.isNaN(at.getTime()) ? '' : ` at ${at.toISOString().slice(11, 16)} UTC`;
    return `activated by Fastly user ${newest.userId}${when}`;
  }

  /** The newest activation of `version` in the audit log; undefined when the log cannot be read or lacks it. */
  async liveSince(ctx: DriverContext, version: VersionInfo): Promise<number | undefined> {
    const activations = await this.readHistory(ctx);
    const at = Date.parse(activations?.find((a) => String(a.version) === version.id)?.at ?? '');
    return Number.isNaN(at) ? undefined : at;
  }

  /** Fastly's diff from the live version to the restored one, summarised: lines added and removed, objects touched. */
  async changes(ctx: DriverContext, plan: Plan): Promise<PlanChange[]> {
    return [summariseDiff(await this.diff(ctx, plan))];
  }

  /** Fastly's text diff of the generated configuration, from the live version to the restored one. */
  diff(ctx: DriverContext, plan: Plan): Promise<string> {
    return this.client.diffVersions(this.target.serviceId, Number(plan.from.id), Number(plan.to.id), ctx.signal);
  }

  /** Fastly's limit on non-read API calls (1 000 an hour per user by default): a rollback activates once. */
  writeBudget(): WriteBudget | undefined {
    const budget = this.client.writeBudget();
    return (
      budget && { pool: 'Fastly API token', remaining: budget.remaining, resetsAt: budget.resetsAt, perRollback: 1 }
    );
  }

  /** Activation takes no precondition: the read that decided it (`decided`) is not used. */
  async execute(ctx: DriverContext, plan: Plan): Promise<void> {
    await this.client.activateVersion(this.target.serviceId, Number(plan.to.id), ctx.signal);
  }

  async verify(ctx: DriverContext, plan: Plan) {
    const service = await this.client.getService(this.target.serviceId, ctx.signal);
    const ok = service.activeVersion === Number(plan.to.id);
    const seen = service.activeVersion === null ? 'no active version' : `v${service.activeVersion} active`;
    return [
      {
        name: 'Active version',
        ok,
        detail: ok ? `Fastly reports ${plan.to.label} active` : `expected ${plan.to.label}, Fastly reports ${seen}`,
      },
    ];
  }
}
