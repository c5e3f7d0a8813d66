import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { approvalScopes } from '../../src/core/approval.js';

const dir = mkdtempSync(join(tmpdir(), 'rr-group-approvers-'));
const targets = `targets:
  cdn:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eY
  edge:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eZ
    approvers: [UEDGE]
`;

function load(groups: string) {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, `incidentChannel: C1INC\napprovers: [U1APPROVER]\n${targets}${groups}`);
  return loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', FASTLY_API_TOKEN: 'f' }, { file: path });
}

function problems(groups: string): string[] {
  try {
    load(groups);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.replace(/^.*?\.yml: /, ''));
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('rollback.yml group approvers', () => {
  it('reads a group written with targets and approvers beside one written as a list', () => {
    const config = load(
      'groups:\n  checkout:\n    targets: [cdn, edge]\n    approvers: [S0PAY]\n  both: [edge, cdn]\n',
    );
    expect(config.groups).toEqual({ checkout: ['cdn', 'edge'], both: ['edge', 'cdn'] });
    expect(config.groupApproval).toEqual({ checkout: { approvers: ['S0PAY'], allowSelfApproval: undefined } });

    const scopes = approvalScopes(config.rules, config.targets, { name: 'checkout', ...config.groupApproval.checkout });
    expect(scopes.map((s) => [s.name, s.approvers])).toEqual([
      ['cdn', ['U1APPROVER']],
      ['edge', ['UEDGE']],
      ['checkout', ['S0PAY']],
    ]);
  });

  it("refuses a group's bad approvers, an unknown key and a missing target list, with the path", () => {
    expect(problems('groups:\n  checkout:\n    targets: [cdn]\n    approvers: [bob]\n')).toEqual([
      'groups.checkout.approvers.0: must be a Slack user ID (U…/W…) or user-group ID (S…)',
    ]);
    expect(problems('groups:\n  checkout:\n    targets: [cdn]\n    approver: [U1]\n')[0]).toMatch(
      /^groups\.checkout: .*approver/,
    );
    expect(problems('groups:\n  checkout:\n    approvers: [U1APPROVER]\n')).toEqual([
      'groups.checkout.targets: must be a list of target names, e.g. [cdn, api]',
    ]);
  });
});
