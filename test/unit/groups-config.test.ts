import { describe, expect, it } from 'vitest';
import { loadBody, problemsOf } from '../support/config-file.js';

const targets = `targets:
  cdn:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eY
  edge:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eZ
`;

const HEAD = `incidentChannel: C1INC\napprovers: [U1APPROVER]\n${targets}`;
const load = (groups: string) => loadBody(HEAD + groups);
const problems = (groups: string) => problemsOf(HEAD + groups);

describe('rollback.yml groups', () => {
  it('reads groups in the file order, and none when the file has no groups', () => {
    expect(load('groups:\n  checkout: [edge, cdn]\n').groups).toEqual({ checkout: ['edge', 'cdn'] });
    expect(load('').groups).toEqual({});
  });

  it('refuses a group named like a target, with the path', () => {
    expect(problems('groups:\n  cdn: [edge]\n')).toEqual(['groups.cdn: a target is named cdn too; rename the group']);
  });

  it('refuses a group naming an unknown target, and suggests the near one', () => {
    expect(problems('groups:\n  checkout: [cdn, edeg]\n')).toEqual([
      'groups.checkout.1: "edeg" is not a target in this file; did you mean edge?',
    ]);
    expect(problems('groups:\n  checkout: [payments]\n')).toEqual([
      'groups.checkout.0: "payments" is not a target in this file; known targets: cdn, edge',
    ]);
  });

  it('refuses an empty group, a target named twice, and a reserved word', () => {
    expect(problems('groups:\n  checkout: []\n')).toEqual(['groups.checkout: must name at least one target']);
    expect(problems('groups:\n  checkout: [cdn, cdn]\n')).toEqual(['groups.checkout: cdn is named twice']);
    const reserved = problems('groups:\n  status: [cdn]\n');
    expect(reserved).toHaveLength(1);
    expect(reserved[0]).toMatch(/^groups\.status.*"status" is a reserved word/);
    expect(problems('groups:\n  Check Out: [cdn]\n')[0]).toMatch(/group names are lower-case.*\(e\.g\. check-out\)/);
  });
});
