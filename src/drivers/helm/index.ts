import { NAMES_KEPT, type PlanChange } from '../../core/changes.js';
import { RollbackError } from '../../core/errors.js';
import type {
  DriverContext,
  FollowUp,
  FollowUpResult,
  GitOpsSuspension,
  LiveState,
  PlanOptions,
  RollbackDriver,
} from '../../core/ports/driver.js';
import type { Plan, VerifyCheck, VersionInfo } from '../../core/types.js';
import { utcClock } from '../kube-access/changed-by.js';
import { extraChecks } from '../kube-access/extra-checks.js';
import { ownerName } from '../kube-access/gitops.js';
import { TargetGitOps } from '../kube-access/gitops-target.js';
import { KubeApi, loadKubeConfig } from '../kube-access/kube-api.js';
import { execInPod } from '../kube-access/pod-exec.js';
import { checkRunningImages, waitForRollout } from '../kube-access/verify-workloads.js';
import type { DriverFactory } from '../types.js';
import { type HelmCliOptions, helmRollback } from './helm-cli.js';
import { type HelmRevision, releaseHistory } from './release.js';
import { chooseRevision, revisionInfo } from './select-revision.js';
import type { HelmTarget, helmTargetSchema } from './target-schema.js';
import { differingKeys } from './values-keys.js';

/** The implementation, loaded by `helmDescriptor.load()` (descriptor.ts) only when a target needs it. */
export const helmDriver: DriverFactory<typeof helmTargetSchema> = {
  kind: 'helm',
  create(name, target, environment, log) {
    const api = new KubeApi(loadKubeConfig(target.context, environment.kubeconfig), {
      log,
      observeCall: environment.observeCall,
    });
    return new HelmDriver(name, target, api, {
      bin: environment.helmBin ?? 'helm',
      kubeconfig: environment.kubeconfig,
      observeCall: environment.observeCall,
    });
  },
};

/**
 * The Helm runbook as a driver: history read natively from the release Secrets, the rollback done by the
 * real `helm rollback <rev> --wait` with a pinned revision (never 0, which would undo a rollback if run
 * twice), then kubectl's rollout status, the running images, and the target's own checks.
 */
export class HelmDriver implements RollbackDriver {
  readonly kind = 'helm';
  /** `helm:<API server URL>/<namespace>/<release>`: the cluster, not the context's name. */
  readonly identity: string;
  private readonly gitops: TargetGitOps;

  constructor(
    private readonly name: string,
    private readonly target: HelmTarget,
    private readonly api: KubeApi,
    private readonly helm: Pick<HelmCliOptions, 'bin' | 'kubeconfig' | 'observeCall'>,
  ) {
    this.identity = `helm:${api.cluster}/${target.namespace}/${target.release}`;
    this.gitops = new TargetGitOps(api, name, target.gitops);
  }

  private get resource(): string {
    return `Helm release ${this.target.release} in ${this.target.namespace}`;
  }

  private async history(ctx: DriverContext): Promise<HelmRevision[]> {
    const secrets = await this.api.listSecrets(
      this.target.namespace,
      `owner=helm,name=${this.target.release}`,
      ctx.signal,
    );
    const { revisions, unreadable } = releaseHistory(secrets);
    if (unreadable.length > 0) ctx.log.warn({ unreadable }, 'some Helm release secrets could not be decoded');
    return revisions;
  }

  async live(ctx: DriverContext): Promise<LiveState> {
    const { current } = chooseCurrent(this.target, await this.history(ctx));
    return { resource: this.resource, current: revisionInfo(current) };
  }

  async plan(ctx: DriverContext, options: PlanOptions): Promise<Plan> {
    const revisions = await this.history(ctx);
    const choice = chooseRevision(
      this.target.release,
      this.target.namespace,
      revisions,
      options.toVersion === undefined ? undefined : Number(options.toVersion),
    );
    const from = revisionInfo(choice.current);
    const to = revisionInfo(choice.target);
    const workloads = this.workloadNames(choice.target);
    const gitops = await this.gitOpsWords(ctx, choice.current, from.label);
    return {
      target: this.name,
      kind: this.kind,
      resource: this.resource,
      identity: this.identity,
      from,
      to,
      selection: choice.selection,
      notes: [
        ...choice.notes,
        `Chart ${choice.target.chart}-${choice.target.chartVersion}, app ${choice.target.appVersion || 'unversioned'}: ${to.images?.join(', ') || 'no images found'} come back.`,
        ...gitops.notes,
      ],
      budgetMs: 300_000,
      actionDone: `helm rollback ${this.target.release} ${choice.target.revision} finished`,
      steps: [
        `Check that revision ${choice.current.revision} is still the latest`,
        ...gitops.steps,
        `helm rollback ${this.target.release} ${choice.target.revision} --namespace ${this.target.namespace} --wait --timeout ${Math.round(this.target.timeout / 1000)}s`,
        `Rollout status of ${workloads.map((w) => `deployment/${w}`).join(', ') || "the release's Deployments"}`,
        `Check every running pod runs ${to.images?.join(', ')}`,
        ...(this.target.verify?.url ? [`Probe ${this.target.verify.url}`] : []),
        ...(this.target.verify?.prometheus
          ? [`Wait for the error rate to fall below ${this.target.verify.prometheus.below * 100} %`]
          : []),
      ],
    };
  }

  /** The values keys that differ between the live revision and the restored one: names only, never values. */
  async changes(ctx: DriverContext, plan: Plan): Promise<PlanChange[]> {
    const revisions = await this.history(ctx);
    const find = (id: string) => {
      const found = revisions.find((r) => String(r.revision) === id);
      if (!found) throw new RollbackError('VERSION_UNKNOWN', `Revision ${id} of ${this.target.release} is gone.`);
      return found;
    };
    const keys = differingKeys(find(plan.from.id).valueDigests, find(plan.to.id).valueDigests);
    const more = keys.length - NAMES_KEPT;
    return [{ kind: 'values-keys', keys: keys.slice(0, NAMES_KEPT), ...(more > 0 ? { more } : {}) }];
  }

  /** Argo CD or Flux managing the release's Deployments: what the plan says about them. */
  private async gitOpsWords(ctx: DriverContext, current: HelmRevision, from: string) {
    const { deployments, notes } = await this.releaseDeployments(ctx, current);
    const words = await this.gitops.planWords(ctx, deployments, { from, releaseIsTarget: true });
    return { notes: [...notes, ...words.notes], steps: words.steps };
  }

  /** The Deployments the latest revision renders (or `workloads:`), as they are now. */
  private releaseDeployments(ctx: DriverContext, current: HelmRevision) {
    return this.gitops.deployments(ctx, this.target.namespace, this.workloadNames(current));
  }

  /** With gitops.suspend: the Flux HelmRelease (or Argo CD Application) that manages the release, suspended. */
  suspendGitOps(ctx: DriverContext): Promise<GitOpsSuspension | undefined> {
    return this.gitops.suspend(ctx, async () => {
      const { current } = chooseCurrent(this.target, await this.history(ctx));
      return (await this.releaseDeployments(ctx, current)).deployments;
    });
  }

  resumeGitOps(ctx: DriverContext, suspension: GitOpsSuspension): Promise<string> {
    return this.gitops.resume(ctx, suspension);
  }

  /** The revision's description ("Upgrade complete", "Rollback to 3") and the HelmRelease that manages it, if any. */
  async changedBy(ctx: DriverContext, version: VersionInfo): Promise<string | undefined> {
    const revisions = await this.history(ctx);
    const revision = revisions.find((r) => String(r.revision) === version.id);
    if (!revision) return undefined;
    const at = revision.deployedAt ? new Date(revision.deployedAt) : undefined;
    const when = at && !Number.isNaN(at.getTime()) ? ` at ${utcClock(at)}` : '';
    const what = `Helm revision ${revision.revision}, "${revision.description || revision.status}"${when}`;
    const { deployments } = await this.releaseDeployments(ctx, revision);
    const release = this.gitops.owners(deployments).find((o) => o.kind === 'HelmRelease');
    return release ? `${what}; the release is managed by ${ownerName(release)}` : what;
  }

  async liveSince(ctx: DriverContext, version: VersionInfo): Promise<number | undefined> {
    const revision = (await this.history(ctx)).find((r) => String(r.revision) === version.id);
    const at = Date.parse(revision?.deployedAt ?? '');
    return Number.isNaN(at) ? undefined : at;
  }

  private workloadNames(revision: HelmRevision): string[] {
    if (this.target.workloads) return this.target.workloads.map((w) => w.slice('deployment/'.length));
    return revision.workloads.filter((w) => w.kind === 'Deployment').map((w) => w.name);
  }

  /** `helm rollback` takes no precondition: the read that decided it (`decided`) is not used. */
  async execute(ctx: DriverContext, plan: Plan): Promise<void> {
    const revision = Number(plan.to.id);
    if (!Number.isInteger(revision) || revision < 1)
      throw new RollbackError('VERSION_UNKNOWN', `"${plan.to.id}" is not a Helm revision.`);
    await helmRollback(
      { release: this.target.release, revision, namespace: this.target.namespace, timeoutMs: this.target.timeout },
      {
        bin: this.helm.bin,
        kubeconfig: this.helm.kubeconfig,
        observeCall: this.helm.observeCall,
        context: this.target.context,
        signal: ctx.signal,
        onLine: (line) => ctx.report({ status: 'progress', text: `helm: ${line}` }),
        recovery: { from: Number(plan.from.id), history: () => this.history(ctx) },
      },
    );
  }

  followUps(): FollowUp[] {
    const migration = this.target.migration;
    if (!migration) return [];
    return [
      {
        id: 'migration',
        label: 'Revert migration',
        description: `${migration.command.join(' ')} in a ${migration.podSelector} pod (container ${migration.container}) in ${this.target.namespace}`,
        needsApproval: true,
      },
    ];
  }

  async runFollowUp(ctx: DriverContext, _plan: Plan, id: string): Promise<FollowUpResult> {
    const migration = this.target.migration;
    if (id !== 'migration' || !migration)
      throw new RollbackError('PROVIDER_REJECTED', `${this.name} has no follow-up "${id}".`);
    return execInPod(this.api, { namespace: this.target.namespace, ...migration, timeoutMs: this.target.timeout }, ctx);
  }

  async verify(ctx: DriverContext, plan: Plan): Promise<VerifyCheck[]> {
    const revisions = await this.history(ctx);
    const target = revisions.find((r) => String(r.revision) === plan.to.id);
    const checks: VerifyCheck[] = [];
    const latest = revisions[0];
    const restored = latest && (String(latest.revision) === plan.to.id || revisionInfo(latest).restores === plan.to.id);
    checks.push({
      name: 'Helm release',
      ok: Boolean(restored && latest?.status === 'deployed'),
      detail: latest
        ? `revision ${latest.revision} is ${latest.status}${latest.description ? ` (${latest.description})` : ''}`
        : 'no history',
    });
    for (const name of target ? this.workloadNames(target) : []) {
      const rollout = await waitForRollout(this.api, this.target.namespace, name, this.target.timeout, ctx);
      checks.push({ name: rollout.name, ok: rollout.ok, detail: rollout.detail });
      if (!rollout.ok) continue;
      const workload = target?.workloads.find((w) => w.name === name);
      const selector =
        this.target.podSelector ??
        Object.entries(workload?.selector ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
      const expected = this.target.podSelector ? (plan.to.images ?? []) : (workload?.images ?? []);
      if (selector) checks.push(await checkRunningImages(this.api, this.target.namespace, selector, expected, ctx));
    }
    if (checks.every((c) => c.ok)) checks.push(...(await extraChecks(this.target.verify, ctx)));
    return checks;
  }
}

function chooseCurrent(target: HelmTarget, revisions: HelmRevision[]) {
  const current = revisions[0];
  if (!current) {
    throw new RollbackError(
      'PROVIDER_NOT_FOUND',
      `Helm release ${target.release} has no history in namespace ${target.namespace}.`,
      {
        hint: `Check \`release:\` and \`namespace:\` in rollback.yml against \`helm list -n ${target.namespace}\`.`,
      },
    );
  }
  return { current };
}
