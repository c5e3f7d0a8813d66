import type { WebClient } from '@slack/web-api';
import type { ApproverDirectory } from '../core/approval.js';
import { RollbackError } from '../core/errors.js';
import type { Logger } from '../log.js';

/**
 * Approvers are user IDs or user-group IDs. Group membership comes from `usergroups.users.list`,
 * cached briefly so a burst of clicks costs one call, and never so long that a removed member keeps
 * approving for long.
 */
export class SlackApproverDirectory implements ApproverDirectory {
  private readonly cache = new Map<string, { users: Set<string>; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  async isApprover(userId: string, approvers: readonly string[]): Promise<boolean> {
    if (approvers.includes(userId)) return true;
    const failures: string[] = [];
    for (const group of approvers.filter((id) => id.startsWith('S'))) {
      try {
        if ((await this.members(group)).has(userId)) return true;
      } catch (error) {
        this.log.warn({ err: error, usergroup: group }, 'could not read user group');
        failures.push(group);
      }
    }
    if (failures.length > 0) {
      throw new RollbackError(
        'NOT_AUTHORIZED',
        `Slack did not tell me who is in ${failures.map((g) => `<!subteam^${g}>`).join(', ')}, so I cannot accept your approval.`,
        {
          hint: 'Ask an approver listed by name, or check the bot has the usergroups:read scope. Nothing was queued.',
        },
      );
    }
    return false;
  }

  private async members(group: string): Promise<Set<string>> {
    const cached = this.cache.get(group);
    if (cached && cached.until > Date.now()) return cached.users;
    const result = await this.client.usergroups.users.list({ usergroup: group });
    const users = new Set(result.users ?? []);
    this.cache.set(group, { users, until: Date.now() + this.ttlMs });
    return users;
  }
}
