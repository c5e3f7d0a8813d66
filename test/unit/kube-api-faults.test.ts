import { gzipSync } from 'node:zlib';
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { RollbackError } from '../../src/core/errors.js';
import { explainHelmFailure } from '../../src/drivers/helm/helm-failure.js';
import { releaseHistory } from '../../src/drivers/helm/release.js';
import { revisionInfo } from '../../src/drivers/helm/select-revision.js';
import { failuresText, type KubeFailure, retryAfterMs, waitBefore } from '../../src/drivers/kube-access/retry.js';

const unavailable: KubeFailure = {
  kind: 'http',
  status: 503,
  message: 'Service Unavailable: etcd is down',
  retryAfterMs: undefined,
};

describe('Kubernetes API failures, in words', () => {
  it('reads Retry-After as seconds or an HTTP date, in any header case', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2_000);
    expect(retryAfterMs({ 'Retry-After': '0' })).toBe(0);
    expect(retryAfterMs({ 'Retry-After': new Date(10_000 + 3_000).toUTCString() }, 10_000)).toBe(3_000);
    expect(retryAfterMs({ 'Retry-After': 'soon' })).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('waits what the server asked, else backs off with jitter', () => {
    expect(waitBefore({ ...unavailable, retryAfterMs: 1_500 }, 1)).toBe(1_500);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const ceiling = 250 * 2 ** (attempt - 1);
      const wait = waitBefore(unavailable, attempt);
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
      expect(wait).toBeLessThanOrEqual(ceiling);
    }
  });

  it('says what the API server did, each time', () => {
    expect(failuresText([unavailable, unavailable, unavailable, unavailable], 6_000)).toBe(
      'answered 503 4 times over 6 s (Service Unavailable: etcd is down)',
    );
    expect(failuresText([{ kind: 'timeout', afterMs: 10_000 }], 10_000)).toBe('did not answer within 10 s');
    expect(failuresText([{ kind: 'timeout', afterMs: 10_000 }, unavailable], 10_400)).toBe(
      'failed 2 times over 10 s (did not answer within 10 s, answered 503: Service Unavailable: etcd is down)',
    );
  });
});

/** A release Secret as helm writes it, with the chart and manifest of `source` (a rollback copies them). */
function secret(version: number, status: string, description: string, source = version): V1Secret {
  const release = {
    name: 'app',
    namespace: 'prod',
    version,
    info: { status, description },
    chart: { metadata: { name: 'app', version: `1.${source}.0`, appVersion: `1.${source}.0` } },
    manifest: `kind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - image: registry/api:1.${source}.0\n`,
  };
  const helmEncoded = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
  return {
    metadata: { name: `sh.helm.release.v1.app.v${version}` },
    data: { release: Buffer.from(helmEncoded).toString('base64') },
  };
}

const args = { release: 'app', revision: 1, namespace: 'prod' };
const helmFailed = new RollbackError('PROVIDER_REJECTED', 'helm rollback exited with code 1: Error: boom');

describe('a failed helm rollback, read back from the release history', () => {
  it('knows a rollback that helm marked failed by its content, since helm overwrote "Rollback to N"', () => {
    const { revisions } = releaseHistory([
      secret(1, 'superseded', 'Install complete'),
      secret(2, 'superseded', 'Upgrade complete'),
      secret(3, 'failed', 'Rollback "app" failed: cannot patch "app" with kind Deployment', 1),
    ]);
    expect(revisionInfo(revisions[0]!).restores).toBe('1');
    // An upgrade that failed is not a rollback, whatever it deployed.
    const upgrade = releaseHistory([
      secret(1, 'superseded', 'Install complete'),
      secret(2, 'failed', 'Upgrade "app" failed: timed out', 1),
    ]);
    expect(revisionInfo(upgrade.revisions[0]!).restores).toBeUndefined();
  });

  it("no new revision: nothing was rolled back, with helm's words and the runbook step", async () => {
    const history = releaseHistory([
      secret(1, 'superseded', 'Install complete'),
      secret(2, 'deployed', 'Upgrade complete'),
    ]).revisions;
    const error = (await explainHelmFailure(helmFailed, args, {
      from: 2,
      history: async () => history,
    })) as RollbackError;
    expect(error.message).toBe(
      'helm rollback exited with code 1: Error: boom\nHelm recorded no new revision: app is still on revision 2, so nothing was rolled back.',
    );
    expect(error.hint).toContain('`helm rollback app 1 -n prod --wait`');
  });

  it('a new revision restoring the target: says how far helm got and that it is not run again', async () => {
    const pending = releaseHistory([
      secret(1, 'superseded', 'Install complete'),
      secret(2, 'superseded', 'Upgrade complete'),
      secret(3, 'pending-rollback', 'Rollback to 1', 1),
    ]).revisions;
    const error = (await explainHelmFailure(helmFailed, args, {
      from: 2,
      history: async () => pending,
    })) as RollbackError;
    expect(error.message).toContain(
      'Helm recorded revision 3 as the rollback to revision 1 but stopped while it was pending-rollback ("Rollback to 1")',
    );
    expect(error.message).toContain('helm is not run again');
  });

  it('someone else moved the release, or the history cannot be read: says so, never "nothing changed"', async () => {
    const moved = releaseHistory([
      secret(2, 'superseded', 'Upgrade complete'),
      secret(3, 'deployed', 'Upgrade complete'),
    ]).revisions;
    expect(
      ((await explainHelmFailure(helmFailed, args, { from: 2, history: async () => moved })) as RollbackError).message,
    ).toContain('Meanwhile app moved on to revision 3 (deployed: Upgrade complete)');
    const unread = (await explainHelmFailure(helmFailed, args, {
      from: 2,
      history: () => Promise.reject(new Error('API down')),
    })) as RollbackError;
    expect(unread.message).toContain(
      'could not be read back afterwards (API down), so whether helm changed anything is not known',
    );
    expect(unread.hint).toContain('Do not run helm rollback again blindly');
  });
});
