import { describe, expect, it } from 'vitest';
import { approvalScopes } from '../../src/core/approval.js';
import { breakGlassWords, decideBreakGlass } from '../../src/core/break-glass.js';
import { RollbackError } from '../../src/core/errors.js';
import { renderText } from '../../src/slack/render-text.js';
import { loadBody, problemsOf } from '../support/config-file.js';

const CREATED = Date.UTC(2026, 11, 3, 3, 14);
const request = { requester: 'UREQ', createdAt: CREATED, target: 'cdn' };
const TEN_MIN = 10 * 60_000;
const file = { approvers: ['UAPP', 'S0SRE'], allowSelfApproval: false, selfApprovalAfterMs: TEN_MIN };

function refusal(run: () => unknown): RollbackError {
  try {
    run();
  } catch (error) {
    if (error instanceof RollbackError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('break-glass (selfApprovalAfter)', () => {
  const scopes = approvalScopes(file, [{ name: 'cdn' }]);

  it('refuses the requester before the time, saying from when they may approve it', () => {
    const error = refusal(() => decideBreakGlass(request, 'UREQ', scopes, CREATED + TEN_MIN - 1, undefined));
    expect(error.code).toBe('SELF_APPROVAL');
    expect(renderText(error.userText())).toContain(
      'You may approve it yourself from 03:24 UTC if no approver has acted (break-glass).',
    );
    expect(renderText(error.userText())).toContain('<@UAPP>');
  });

  it('after the time, asks for the target name, refuses another name, and accepts the right one', () => {
    const after = CREATED + TEN_MIN;
    expect(refusal(() => decideBreakGlass(request, 'UREQ', scopes, after, undefined)).code).toBe(
      'BREAK_GLASS_UNCONFIRMED',
    );
    const wrong = refusal(() => decideBreakGlass(request, 'UREQ', scopes, after, { targetName: 'api' }));
    expect(wrong.code).toBe('BREAK_GLASS_UNCONFIRMED');
    expect(wrong.message).toContain('type cdn');
    const decision = decideBreakGlass(request, 'UREQ', scopes, after, { targetName: ' cdn ' });
    expect(decision).toMatchObject({
      kind: 'break-glass',
      breakGlass: { afterMs: TEN_MIN, approvers: ['UAPP', 'S0SRE'] },
    });
    expect(breakGlassWords({ afterMs: TEN_MIN })).toBe('self-approved after 10 min without an approver (break-glass)');
  });

  it('gives approvers no bypass: they approve the usual way, and a confirmation from them is refused', () => {
    const after = CREATED + TEN_MIN;
    expect(decideBreakGlass(request, 'UAPP', scopes, after, undefined)).toEqual({ kind: 'usual' });
    expect(refusal(() => decideBreakGlass(request, 'UAPP', scopes, after, { targetName: 'cdn' })).code).toBe(
      'NOT_AUTHORIZED',
    );
  });

  it('is off by default and for a target that turns it off', () => {
    const off = approvalScopes({ approvers: ['UAPP'], allowSelfApproval: false }, [{ name: 'cdn' }]);
    expect(decideBreakGlass(request, 'UREQ', off, CREATED + TEN_MIN, undefined)).toEqual({ kind: 'usual' });
    expect(refusal(() => decideBreakGlass(request, 'UREQ', off, CREATED + TEN_MIN, { targetName: 'cdn' })).code).toBe(
      'SELF_APPROVAL',
    );
    const turnedOff = approvalScopes(file, [{ name: 'cdn', approval: { selfApprovalAfterMs: false } }]);
    expect(decideBreakGlass(request, 'UREQ', turnedOff, CREATED + TEN_MIN, undefined)).toEqual({ kind: 'usual' });
  });

  it('reads selfApprovalAfter from rollback.yml, globally and per target, and refuses bad values', () => {
    const base = 'incidentChannel: C1INC\napprovers: [U1APP]\n';
    const target = '  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n';
    const config = loadBody(
      `${base}selfApprovalAfter: 10m\ntargets:\n${target}  edge:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eZ\n    selfApprovalAfter: 'off'\n`,
    );
    expect(config.rules.selfApprovalAfterMs).toBe(TEN_MIN);
    expect(config.targets.find((t) => t.name === 'edge')?.approval).toMatchObject({ selfApprovalAfterMs: false });
    expect(loadBody(`${base}targets:\n${target}`).rules.selfApprovalAfterMs).toBeUndefined();
    expect(problemsOf(`${base}selfApprovalAfter: soon\ntargets:\n${target}`)).toEqual([
      'selfApprovalAfter: "soon" is not a duration of at least 1s; write it like 10m, or off',
    ]);
    expect(
      problemsOf(`${base}targets:\n${target}groups:\n  all:\n    targets: [cdn]\n    selfApprovalAfter: 10m\n`),
    ).toEqual([
      "groups.all.selfApprovalAfter: break-glass is for a request on one target; a group's request always needs an approver. Set selfApprovalAfter on its targets (or the file) instead",
    ]);
    expect(problemsOf(`${base}requestTtl: 15m\ntargets:\n${target}    selfApprovalAfter: 20m\n`)).toEqual([
      'targets.cdn.selfApprovalAfter: 20 min is not shorter than requestTtl (15 min), so a request would expire before its requester could approve it; shorten it or lengthen requestTtl',
    ]);
  });
});
