import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { managerWords, templateWriter } from '../../src/drivers/kube-access/changed-by.js';
import { distinctOwners, type GitOpsOwner, type Inspection, ownersOf } from '../../src/drivers/kube-access/gitops.js';
import { type GitOpsPlanContext, gitOpsPlanWords } from '../../src/drivers/kube-access/gitops-plan.js';

const web = { group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'web' };
const TRACKING = 'argocd.argoproj.io/tracking-id';

describe('ownersOf: who a Deployment says manages it', () => {
  it("reads Argo CD's tracking annotation, in the configured namespace or the one the app id names", () => {
    expect(ownersOf({ annotations: { [TRACKING]: 'web:apps/Deployment:prod/web' } }, web, 'argocd')).toEqual([
      { kind: 'Application', name: 'web', namespace: 'argocd', certain: true, seenOn: 'deployment/web' },
    ]);
    expect(ownersOf({ annotations: { [TRACKING]: 'team-a_web:apps/Deployment:prod/web' } }, web, 'argocd')).toEqual([
      expect.objectContaining({ name: 'web', namespace: 'team-a', certain: true }),
    ]);
  });

  it('ignores a tracking annotation that describes another resource (a copied manifest), as Argo CD does', () => {
    expect(ownersOf({ annotations: { [TRACKING]: 'web:apps/Deployment:staging/web' } }, web, 'argocd')).toEqual([]);
    expect(ownersOf({ annotations: { [TRACKING]: 'garbage' } }, web, 'argocd')).toEqual([]);
  });

  it('takes the instance label as a guess only (Helm sets it too), and only without a tracking annotation', () => {
    expect(ownersOf({ labels: { 'app.kubernetes.io/instance': 'web' } }, web, 'gitops')).toEqual([
      { kind: 'Application', name: 'web', namespace: 'gitops', certain: false, seenOn: 'deployment/web' },
    ]);
    expect(
      ownersOf(
        {
          labels: { 'app.kubernetes.io/instance': 'other' },
          annotations: { [TRACKING]: 'web:apps/Deployment:prod/web' },
        },
        web,
        'argocd',
      ).map((o) => o.name),
    ).toEqual(['web']);
  });

  it("reads Flux's owner labels, only when both name and namespace are there", () => {
    expect(
      ownersOf(
        {
          labels: {
            'kustomize.toolkit.fluxcd.io/name': 'apps',
            'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
            'helm.toolkit.fluxcd.io/name': 'web',
          },
        },
        web,
        'argocd',
      ),
    ).toEqual([
      { kind: 'Kustomization', name: 'apps', namespace: 'flux-system', certain: true, seenOn: 'deployment/web' },
    ]);
    expect(ownersOf(undefined, web, 'argocd')).toEqual([]);
  });

  it('names each owner once across the Deployments of a release, keeping the certain sighting', () => {
    const guess: GitOpsOwner = { kind: 'Application', name: 'app', namespace: 'argocd', certain: false, seenOn: 'a' };
    expect(distinctOwners([guess, { ...guess, certain: true, seenOn: 'b' }, { ...guess }])).toEqual([
      { ...guess, certain: true, seenOn: 'b' },
    ]);
  });
});

describe('gitOpsPlanWords: what the plan says before anyone approves', () => {
  const app: GitOpsOwner = {
    kind: 'Application',
    name: 'web',
    namespace: 'argocd',
    certain: true,
    seenOn: 'deployment/web',
  };
  const kustomization: GitOpsOwner = { ...app, kind: 'Kustomization', name: 'apps', namespace: 'flux-system' };
  const release: GitOpsOwner = { ...app, kind: 'HelmRelease', name: 'api', namespace: 'flux-system' };
  const context: GitOpsPlanContext = { target: 'web', from: 'v42', suspend: false, releaseIsTarget: false };
  const words = (inspection: Inspection, more: Partial<GitOpsPlanContext> = {}) =>
    gitOpsPlanWords([inspection], { ...context, ...more });
  const argo = (automated: Record<string, unknown> | undefined): Inspection => ({
    owner: app,
    status: 'argocd',
    automated,
    hasSyncPolicy: true,
  });
  const flux = (owner: GitOpsOwner, more: Partial<Extract<Inspection, { status: 'flux' }>> = {}): Inspection => ({
    owner,
    status: 'flux',
    suspend: undefined,
    interval: '10m',
    driftDetection: undefined,
    ...more,
  });

  it('warns that Argo CD with self-heal puts the old version back within about 3 minutes, and says how to stop it', () => {
    expect(words(argo({ prune: true, selfHeal: true }))).toEqual({
      notes: [
        'Managed by Argo CD application web (namespace argocd): automated sync with self-heal.',
        '⚠️ Argo CD will put v42 back within about 3 minutes. Set `gitops: { suspend: true }` for web to suspend it during the rollback; otherwise the thread says when web moves.',
      ],
      steps: [],
    });
  });

  it('without self-heal, Argo CD puts it back at the next commit; with automated sync off or disabled, nothing', () => {
    expect(words(argo({ prune: true })).notes[1]).toMatch(/^⚠️ Argo CD will put v42 back at the next commit to git/);
    for (const automated of [undefined, { selfHeal: true, enabled: false }]) {
      expect(words(argo(automated))).toEqual({
        notes: [
          'Managed by Argo CD application web (namespace argocd): automated sync off, so it changes nothing until someone syncs it.',
        ],
        steps: [],
      });
    }
  });

  it('with gitops.suspend: a step before the change instead of the warning', () => {
    expect(words(argo({ selfHeal: true }), { suspend: true })).toEqual({
      notes: [
        'Managed by Argo CD application web (namespace argocd): automated sync with self-heal; the rollback suspends it first (gitops.suspend).',
      ],
      steps: [
        'Suspend Argo CD application web (namespace argocd): remove its automated sync (the removed value is kept in the record)',
      ],
    });
    expect(words(flux(kustomization), { suspend: true }).steps).toEqual([
      'Suspend Flux Kustomization apps (namespace flux-system): set spec.suspend to true, as flux suspend does (its previous value is kept in the record)',
    ]);
    expect(words(flux(kustomization, { suspend: true }), { suspend: true }).steps).toEqual([]);
  });

  it('Flux: the warning names the interval; a HelmRelease without drift detection corrects only a release it owns', () => {
    expect(words(flux(kustomization)).notes[1]).toMatch(/^⚠️ Flux will put v42 back within its interval, 10m\. /);
    expect(words(flux(release)).notes).toEqual([
      'Managed by Flux HelmRelease api (namespace flux-system): not suspended, reconciling every 10m; its drift detection is off, so it puts v42 back only at its next upgrade.',
    ]);
    expect(words(flux(release, { driftDetection: 'enabled' })).notes[1]).toMatch(/^⚠️ Flux will put v42 back/);
    expect(words(flux(release), { releaseIsTarget: true }).notes[1]).toMatch(/^⚠️ Flux will put v42 back/);
  });

  it('says what it could not find out instead of failing the plan', () => {
    expect(words({ owner: app, status: 'no-crd' }).notes[0]).toContain(
      'this cluster serves no applications.argoproj.io',
    );
    expect(words({ owner: kustomization, status: 'missing' }).notes[0]).toBe(
      'deployment/web is tracked by Flux Kustomization apps (namespace flux-system), but there is no such Kustomization: whether something would put v42 back is not known.',
    );
    expect(words({ owner: release, status: 'forbidden', message: 'HTTP 403' }).notes[0]).toContain(
      'needs get and patch on helmreleases.helm.toolkit.fluxcd.io',
    );
    expect(words({ owner: app, status: 'unreadable', message: 'it answered 503' }).notes[0]).toBe(
      'Could not read Argo CD application web (namespace argocd), so whether it would put v42 back is not known: it answered 503',
    );
  });
});

describe('templateWriter: who last wrote the pod template', () => {
  const entry = (manager: string, time: string, fields: object, operation = 'Update') => ({
    manager,
    operation,
    apiVersion: 'apps/v1',
    time: new Date(time),
    fieldsType: 'FieldsV1',
    fieldsV1: fields,
  });
  const template = { 'f:spec': { 'f:template': { 'f:spec': {} } } };
  const owners: GitOpsOwner[] = [
    { kind: 'Application', name: 'web', namespace: 'argocd', certain: true, seenOn: 'deployment/web' },
  ];

  it('is the newest entry that touches spec.template, status and scale writes aside, named for people', () => {
    const deployment: V1Deployment = {
      metadata: {
        managedFields: [
          entry('kubectl-client-side-apply', '2026-12-02T01:00:00Z', template),
          entry('argocd-controller', '2026-12-02T02:31:07Z', template),
          entry('kube-controller-manager', '2026-12-02T02:40:00Z', { 'f:status': {} }),
          entry('kubectl-scale', '2026-12-02T02:45:00Z', { 'f:spec': { 'f:replicas': {} } }),
        ],
      },
    };
    expect(templateWriter(deployment, owners)).toBe('by Argo CD (application web), Update at 02:31 UTC');
    expect(templateWriter({ metadata: {} }, owners)).toBeUndefined();
  });

  it('names the GitOps controllers and kubectl', () => {
    expect(managerWords('argocd-controller', [])).toBe('Argo CD');
    expect(managerWords('kustomize-controller', [])).toBe('Flux kustomize-controller');
    expect(managerWords('helm-controller', [{ ...owners[0]!, kind: 'HelmRelease', name: 'api' }])).toBe(
      'Flux helm-controller (HelmRelease api)',
    );
    expect(managerWords('kubectl-rollout', [])).toBe('kubectl (kubectl-rollout)');
    expect(managerWords('rapid-rollback', [])).toBe('rapid-rollback (a rollback)');
    expect(managerWords('spinnaker', [])).toBe('spinnaker');
  });
});
