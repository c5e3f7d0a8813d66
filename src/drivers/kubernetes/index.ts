import type { V1Deployment } from '@kubernetes/client-node';
import type { PlanChange } from '../../core/changes.js';
import { RollbackError } from '../../core/errors.js';
import type {
  DriverContext,
  GitOpsSuspension,
  LiveState,
  PlanOptions,
  RollbackDriver,
} from '../../core/ports/driver.js';
import type { Plan, VerifyCheck, VersionInfo } from '../../core/types.js';
import { templateWriter, templateWrittenAt } from '../kube-access/changed-by.js';
import { extraChecks } from '../kube-access/extra-checks.js';
import { TargetGitOps } from '../kube-access/gitops-target.js';
import { KubeApi, loadKubeConfig } from '../kube-access/kube-api.js';
import { checkRunningImages, selectorOf, waitForRollout } from '../kube-access/verify-workloads.js';
import type { DriverFactory } from '../types.js';
import { sendGuardedPatch } from './guarded-patch.js';
import { currentRevision, type Revision, revisionOf, revisionsOf, undoPatch } from './revisions.js';
import type { KubernetesTarget, kubernetesTargetSchema } from './target-schema.js';
import { podTemplateDifferences } from './template-diff.js';

/** The implementation, loaded by `kubernetesDescriptor.load()` (descriptor.ts) only when a target needs it. */
export const kubernetesDriver: DriverFactory<typeof kubernetesTargetSchema> = {
  kind: 'kubernetes',
  create(name, target, environment, log) {
    return new KubernetesDriver(
      name,
      target,
      new KubeApi(loadKubeConfig(target.context, environment.kubeconfig), {
        log,
        observeCall: environment.observeCall,
      }),
    );
  },
};

export function revisionInfo(revision: Revision): VersionInfo {
  // The ReplicaSet is the identity: `rollout undo` reuses it and only bumps its revision number.
  const annotations = { ...revision.template.metadata?.annotations, ...revision.replicaSet.metadata?.annotations };
  return {
    id: revision.replicaSet.metadata?.name ?? `revision-${revision.revision}`,
    label: `revision ${revision.revision}`,
    description: revision.images.join(', '),
    images: revision.images,
    meta: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`annotation:${k}`, v])),
  };
}

/** Rolls a plain Deployment back the way `kubectl rollout undo` does, then verifies like `rollout status`. */
export class KubernetesDriver implements RollbackDriver {
  readonly kind = 'kubernetes';
  /** `kubernetes:<API server URL>/<namespace>/deployment/<name>`: the cluster, not the context's name. */
  readonly identity: string;
  private readonly gitops: TargetGitOps;

  constructor(
    private readonly name: string,
    private readonly target: KubernetesTarget,
    private readonly api: KubeApi,
  ) {
    this.identity = `kubernetes:${api.cluster}/${target.namespace}/deployment/${target.deployment}`;
    this.gitops = new TargetGitOps(api, name, target.gitops);
  }

  private get resource(): string {
    return `deployment/${this.target.deployment} in ${this.target.namespace}`;
  }

  private async read(
    ctx: DriverContext,
  ): Promise<{ deployment: V1Deployment; revisions: Revision[]; current: Revision }> {
    const deployment = await this.api.getDeployment(this.target.namespace, this.target.deployment, ctx.signal);
    const selector = selectorOf(deployment);
    const revisions = revisionsOf(
      deployment,
      await this.api.listReplicaSets(this.target.namespace, selector, ctx.signal),
    );
    const current = currentRevision(deployment, revisions);
    if (!current) {
      throw new RollbackError(
        'NOTHING_TO_ROLL_BACK',
        `${this.resource} has no ReplicaSet for its current template yet.`,
        {
          hint: 'A rollout may be starting right now: wait a few seconds and plan again.',
        },
      );
    }
    return { deployment, revisions, current };
  }

  /** With the Deployment's resourceVersion as the precondition `execute` pins its patch to. */
  async live(ctx: DriverContext): Promise<LiveState> {
    const { deployment, current } = await this.read(ctx);
    return {
      resource: this.resource,
      current: revisionInfo(current),
      precondition: deployment.metadata?.resourceVersion,
    };
  }

  /** The pod template differences between the live ReplicaSet and the restored one (images, env names, resources…). */
  async changes(ctx: DriverContext, plan: Plan): Promise<PlanChange[]> {
    const { revisions } = await this.read(ctx);
    const find = (id: string) => {
      const found = revisions.find((r) => r.replicaSet.metadata?.name === id);
      if (!found) throw new RollbackError('VERSION_UNKNOWN', `ReplicaSet ${id} of ${this.resource} is gone.`);
      return found.template;
    };
    return [{ kind: 'pod-template', differences: podTemplateDifferences(find(plan.from.id), find(plan.to.id)) }];
  }

  async plan(ctx: DriverContext, options: PlanOptions): Promise<Plan> {
    const { deployment, revisions, current } = await this.read(ctx);
    if (deployment.spec?.paused) {
      throw new RollbackError(
        'VERSION_NOT_RESTORABLE',
        `${this.resource} is paused, so a rollback would not roll out.`,
        {
          hint: `Resume it first (\`kubectl rollout resume deployment/${this.target.deployment} -n ${this.target.namespace}\`), or find out who paused it and why.`,
        },
      );
    }
    const older = revisions.filter((r) => r.revision < current.revision);
    let target: Revision | undefined;
    if (options.toVersion !== undefined) {
      target = revisions.find((r) => r.revision === Number(options.toVersion));
      if (!target) {
        throw new RollbackError(
          'VERSION_UNKNOWN',
          `${this.resource} has no revision ${options.toVersion}; it keeps ${revisions.map((r) => r.revision).join(', ')}.`,
          {
            hint: 'Old ReplicaSets beyond revisionHistoryLimit are gone and cannot be restored.',
          },
        );
      }
      if (target === current)
        throw new RollbackError(
          'NOTHING_TO_ROLL_BACK',
          `revision ${target.revision} is already live on ${this.resource}.`,
        );
    } else {
      target = older[0];
      if (!target) {
        throw new RollbackError(
          'NOTHING_TO_ROLL_BACK',
          `${this.resource} has no revision before ${current.revision}.`,
          {
            hint: 'There is nothing to roll back to. Fix forward: deploy a corrected image.',
          },
        );
      }
    }
    const from = revisionInfo(current);
    const to = revisionInfo(target);
    const gitops = await this.gitops.planWords(ctx, [deployment], { from: from.label, releaseIsTarget: false });
    return {
      target: this.name,
      kind: this.kind,
      resource: this.resource,
      identity: this.identity,
      from,
      to,
      selection: options.toVersion === undefined ? 'history' : 'explicit',
      notes: [`ReplicaSet ${to.id} holds ${to.label}: ${to.description}.`, ...gitops.notes],
      budgetMs: 300_000,
      actionDone: `Deployment ${this.target.deployment} set back to the template of ${to.label} (like kubectl rollout undo)`,
      steps: [
        `Check that ${from.label} is still live`,
        ...gitops.steps,
        `Set the Deployment's pod template to ${to.label} (${to.description})`,
        `Wait for the rollout (kubectl's rollout status rules), up to ${Math.round(this.target.timeout / 1000)} s`,
        `Check every running pod runs ${to.description}`,
        ...this.extraStepTexts(),
      ],
    };
  }

  private extraStepTexts(): string[] {
    const steps: string[] = [];
    if (this.target.verify?.url) steps.push(`Probe ${this.target.verify.url}`);
    if (this.target.verify?.prometheus)
      steps.push(`Wait for the error rate to fall below ${this.target.verify.prometheus.below * 100} %`);
    return steps;
  }

  /**
   * Sends what `kubectl rollout undo` would, guarded by the revision and, when `decided` carries one, by
   * the resourceVersion of that read: any write to the Deployment since (a template edit the controller
   * has not observed yet, which leaves the revision as it was) makes the API server refuse the patch.
   */
  async execute(ctx: DriverContext, plan: Plan, decided?: LiveState): Promise<void> {
    const { deployment, revisions, current } = await this.read(ctx);
    const target = revisions.find((r) => r.replicaSet.metadata?.name === plan.to.id);
    if (!target)
      throw new RollbackError(
        'VERSION_UNKNOWN',
        `ReplicaSet ${plan.to.id} is gone, so ${plan.to.label} cannot be restored.`,
      );
    if (current.replicaSet.metadata?.name !== plan.from.id) {
      throw new RollbackError(
        'PLAN_STALE',
        `${this.resource} moved to ${revisionInfo(current).label} since the plan. Nothing was changed.`,
      );
    }
    if (deployment.spec?.paused)
      throw new RollbackError(
        'VERSION_NOT_RESTORABLE',
        `${this.resource} was paused since the plan. Nothing was changed.`,
      );
    const ops = undoPatch(deployment, target, revisionOf(deployment), decided?.precondition);
    await sendGuardedPatch(this.api, { namespace: this.target.namespace, name: this.target.deployment, ops }, ctx);
  }

  /** With gitops.suspend: Argo CD's automated sync or the Flux object that manages the Deployment, suspended. */
  suspendGitOps(ctx: DriverContext): Promise<GitOpsSuspension | undefined> {
    return this.gitops.suspend(ctx, async () => [
      await this.api.getDeployment(this.target.namespace, this.target.deployment, ctx.signal),
    ]);
  }

  resumeGitOps(ctx: DriverContext, suspension: GitOpsSuspension): Promise<string> {
    return this.gitops.resume(ctx, suspension);
  }

  /** The newest writer of the pod template, from the Deployment's managed fields. */
  async changedBy(ctx: DriverContext): Promise<string | undefined> {
    const deployment = await this.api.getDeployment(this.target.namespace, this.target.deployment, ctx.signal);
    return templateWriter(deployment, this.gitops.owners([deployment]));
  }

  /** When the pod template was last written (managed fields): a rollout, or a rollback, began then. */
  async liveSince(ctx: DriverContext): Promise<number | undefined> {
    const deployment = await this.api.getDeployment(this.target.namespace, this.target.deployment, ctx.signal);
    return templateWrittenAt(deployment)?.getTime();
  }

  async verify(ctx: DriverContext, plan: Plan): Promise<VerifyCheck[]> {
    const rollout = await waitForRollout(
      this.api,
      this.target.namespace,
      this.target.deployment,
      this.target.timeout,
      ctx,
    );
    const checks: VerifyCheck[] = [{ name: rollout.name, ok: rollout.ok, detail: rollout.detail }];
    if (!rollout.ok) return checks;
    const expected = plan.to.images ?? [];
    const selector = this.target.podSelector ?? (rollout.deployment ? selectorOf(rollout.deployment) : '');
    checks.push(await checkRunningImages(this.api, this.target.namespace, selector, expected, ctx));
    checks.push(...(await extraChecks(this.target.verify, ctx)));
    return checks;
  }
}
