import { describe, expect, it } from 'vitest';
import { approvalScopes } from '../../src/core/approval.js';
import { loadBody, problemsOf } from '../support/config-file.js';

const targets = `targets:
  cdn:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eY
  edge:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eZ
    approvers: [UEDGE]
`;

const HEAD = `incidentChannel: C1INC\napprovers: [U1APPROVER]\n${targets}`;
const load = (groups: string) => loadBody(HEAD + groups);
const problems = (groups: string) => problemsOf(HEAD + groups);

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
