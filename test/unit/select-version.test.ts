import { describe, expect, it } from 'vitest';
import type { FastlyActivation, FastlyService } from '../../src/drivers/fastly/client.js';
import { chooseRestoreVersion } from '../../src/drivers/fastly/select-version.js';
import { codeOf } from '../support/rollback-code.js';

function service(active: number, versions: Array<[number, boolean]>): FastlyService {
  return {
    id: 'SU1Z0isxPaozGVKXdv0eY',
    name: 'www-prod',
    activeVersion: active,
    versions: versions.map(([number, locked]) => ({
      number,
      locked,
      active: number === active,
      comment: `deploy ${number}`,
      updatedAt: null,
    })),
  };
}

function history(...versions: number[]): FastlyActivation[] {
  // newest first, like the client returns them
  return versions.map((version, i) => ({
    version,
    at: new Date(Date.UTC(2026, 0, 1, 0, 60 - i)).toISOString(),
    userId: null,
    description: '',
  }));
}

describe('chooseRestoreVersion', () => {
  const svc = service(42, [
    [39, true],
    [40, true],
    [41, true],
    [42, true],
    [43, false],
  ]);

  it('restores the version active before the current one, from the history', () => {
    const choice = chooseRestoreVersion(svc, history(42, 41, 40));
    expect(choice.to.number).toBe(41);
    expect(choice.from.number).toBe(42);
    expect(choice.selection).toBe('history');
  });

  it('follows the history, not the numbers: v39 when v39 was live before v42', () => {
    const choice = chooseRestoreVersion(svc, history(42, 39, 41, 40));
    expect(choice.to.number).toBe(39);
  });

  it('skips re-activations of the current version', () => {
    expect(chooseRestoreVersion(svc, history(42, 42, 40)).to.number).toBe(40);
  });

  it('infers the highest locked version below the active one when the history is unreadable, and says so', () => {
    const choice = chooseRestoreVersion(svc, null);
    expect(choice.to.number).toBe(41);
    expect(choice.selection).toBe('inferred');
    expect(choice.notes.join(' ')).toMatch(/could not be read/);
  });

  it('never picks a draft that was never activated', () => {
    const drafts = service(42, [
      [40, true],
      [41, false],
      [42, true],
    ]);
    expect(chooseRestoreVersion(drafts, null).to.number).toBe(40);
    expect(codeOf(() => chooseRestoreVersion(drafts, null, 41))).toBe('VERSION_NOT_RESTORABLE');
    expect(codeOf(() => chooseRestoreVersion(svc, null, 43))).toBe('VERSION_NOT_RESTORABLE');
  });

  it('takes an explicit version, even a newer one, and refuses unknown or current ones', () => {
    const after = service(41, [
      [40, true],
      [41, true],
      [42, true],
    ]);
    expect(chooseRestoreVersion(after, null, 42)).toMatchObject({ selection: 'explicit', to: { number: 42 } });
    expect(codeOf(() => chooseRestoreVersion(after, null, 99))).toBe('VERSION_UNKNOWN');
    expect(codeOf(() => chooseRestoreVersion(after, null, 41))).toBe('NOTHING_TO_ROLL_BACK');
  });

  it('has nothing to restore on a first version', () => {
    expect(codeOf(() => chooseRestoreVersion(service(1, [[1, true]]), history(1)))).toBe('NOTHING_TO_ROLL_BACK');
  });
});
