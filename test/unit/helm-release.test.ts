import { gzipSync } from 'node:zlib';
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { RollbackError } from '../../src/core/errors.js';
import { helmRollback } from '../../src/drivers/helm/helm-cli.js';
import { releaseHistory } from '../../src/drivers/helm/release.js';
import { chooseRevision, revisionInfo } from '../../src/drivers/helm/select-revision.js';
import { codeOf } from '../support/rollback-code.js';

function manifest(image: string): string {
  return `---\n# Source: app/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels:\n      app: api\n  template:\n    spec:\n      containers:\n        - name: api\n          image: "${image}"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app\n`;
}

/** A release Secret as helm writes it: data.release = base64(base64(gzip(json))) once the API encodes it. */
function secret(version: number, status: string, appVersion: string, description = 'Upgrade complete'): V1Secret {
  const release = {
    name: 'app',
    namespace: 'prod',
    version,
    info: { status, description, last_deployed: '2026-11-20T10:00:00Z' },
    chart: { metadata: { name: 'app', version: `1.${version}.0`, appVersion } },
    manifest: manifest(`registry/api:${appVersion}`),
  };
  const helmEncoded = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
  return {
    metadata: { name: `sh.helm.release.v1.app.v${version}` },
    data: { release: Buffer.from(helmEncoded).toString('base64') },
  };
}

describe('Helm release history', () => {
  it('decodes release Secrets, newest first, with chart, app version and images', () => {
    const { revisions, unreadable } = releaseHistory([
      secret(1, 'superseded', '1.0.0'),
      secret(3, 'deployed', '1.2.0'),
      secret(2, 'superseded', '1.1.0'),
      { metadata: { name: 'broken' }, data: { release: 'bm9wZQ==' } },
    ]);
    expect(revisions.map((r) => r.revision)).toEqual([3, 2, 1]);
    expect(revisions[0]).toMatchObject({
      status: 'deployed',
      chart: 'app',
      chartVersion: '1.3.0',
      appVersion: '1.2.0',
      images: ['registry/api:1.2.0'],
    });
    expect(revisions[0]?.workloads).toEqual([
      { kind: 'Deployment', name: 'app', images: ['registry/api:1.2.0'], selector: { app: 'api' } },
    ]);
    expect(unreadable).toEqual(['broken']);
  });

  it('targets the newest successful revision before the latest, skipping failed ones and saying so', () => {
    const { revisions } = releaseHistory([
      secret(5, 'deployed', '1.5.0'),
      secret(4, 'failed', '1.4.0'),
      secret(3, 'superseded', '1.3.0'),
    ]);
    const choice = chooseRevision('app', 'prod', revisions);
    expect(choice.target.revision).toBe(3);
    expect(choice.notes.join(' ')).toContain('Skipped revision 4 (failed)');
    expect(revisionInfo(choice.target).label).toBe('v1.3.0 (revision 3)');
  });

  it('rolls back from a failed latest revision to the last deployed one', () => {
    const { revisions } = releaseHistory([secret(6, 'failed', '1.6.0'), secret(5, 'deployed', '1.5.0')]);
    expect(chooseRevision('app', 'prod', revisions).target.revision).toBe(5);
  });

  it('refuses a release stuck in pending-upgrade and says what to do', () => {
    const { revisions } = releaseHistory([secret(7, 'pending-upgrade', '1.7.0'), secret(6, 'deployed', '1.6.0')]);
    try {
      chooseRevision('app', 'prod', revisions);
      expect.unreachable();
    } catch (error) {
      expect((error as RollbackError).message).toContain('stuck in pending-upgrade (revision 7)');
      expect((error as RollbackError).hint).toContain('helm rollback app 6 -n prod');
    }
  });

  it('knows a rollback revision restores an older one', () => {
    const { revisions } = releaseHistory([secret(4, 'deployed', '1.2.0', 'Rollback to 2')]);
    expect(revisionInfo(revisions[0]!).restores).toBe('2');
  });

  it('refuses explicit revisions that are unknown, current or failed', () => {
    const { revisions } = releaseHistory([
      secret(3, 'deployed', '1.3.0'),
      secret(2, 'failed', '1.2.0'),
      secret(1, 'superseded', '1.1.0'),
    ]);
    expect(codeOf(() => chooseRevision('app', 'prod', revisions, 9))).toBe('VERSION_UNKNOWN');
    expect(codeOf(() => chooseRevision('app', 'prod', revisions, 3))).toBe('NOTHING_TO_ROLL_BACK');
    expect(codeOf(() => chooseRevision('app', 'prod', revisions, 2))).toBe('VERSION_NOT_RESTORABLE');
    expect(chooseRevision('app', 'prod', revisions, 1).target.revision).toBe(1);
  });
});

describe('helm command line', () => {
  it('refuses injection strings before anything runs', async () => {
    for (const release of ['app; rm -rf /', '--kubeconfig=/etc/passwd', '$(id)', 'app\nversion']) {
      await expect(
        helmRollback(
          { release, revision: 3, namespace: 'prod', timeoutMs: 1000 },
          { bin: '/bin/echo', signal: new AbortController().signal },
        ),
      ).rejects.toThrow(/Refusing to run helm/);
    }
    await expect(
      helmRollback(
        { release: 'app', revision: 0, namespace: 'prod', timeoutMs: 1000 },
        { bin: '/bin/echo', signal: new AbortController().signal },
      ),
    ).rejects.toThrow(/Refusing/);
  });

  it('passes arguments as an array, pinned revision and all, with no shell', async () => {
    const lines: string[] = [];
    const output = await helmRollback(
      { release: 'app', revision: 7, namespace: 'prod', timeoutMs: 300_000 },
      { bin: '/bin/echo', signal: new AbortController().signal, onLine: (l) => lines.push(l) },
    );
    expect(output).toBe('rollback app 7 --namespace prod --wait --timeout 300s');
    expect(lines).toEqual([output]);
  });

  it('says how to fix a missing helm binary', async () => {
    await expect(
      helmRollback(
        { release: 'app', revision: 7, namespace: 'prod', timeoutMs: 1000 },
        { bin: '/nonexistent/helm', signal: new AbortController().signal },
      ),
    ).rejects.toThrow(/helm was not found \(HELM_BIN=\/nonexistent\/helm\)/);
  });
});
