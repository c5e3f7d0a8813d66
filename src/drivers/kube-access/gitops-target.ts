import type { V1Deployment } from '@kubernetes/client-node';
import { isRollbackError } from '../../core/errors.js';
import type { DriverContext, GitOpsSuspension } from '../../core/ports/driver.js';
import { type GitOpsOwner, inspectAll, ownersOf } from './gitops.js';
import { type GitOpsPlanWords, gitOpsPlanWords } from './gitops-plan.js';
import { resumeControllers, suspendControllers } from './gitops-suspend.js';
import type { KubeApi } from './kube-api.js';
import type { GitOpsSettings } from './target-schema.js';

/**
 * The GitOps side of one Helm or Kubernetes target: who manages its Deployments (gitops.ts), what the plan says
 * about it (gitops-plan.ts), and suspending and resuming it (gitops-suspend.ts). The driver says which
 * Deployments are its own.
 */
export class TargetGitOps {
  constructor(
    private readonly api: KubeApi,
    private readonly target: string,
    private readonly settings: GitOpsSettings,
  ) {}

  /** The GitOps objects the Deployments name (unread). */
  owners(deployments: readonly V1Deployment[]): GitOpsOwner[] {
    return deployments.flatMap((deployment) =>
      ownersOf(
        deployment.metadata,
        {
          group: 'apps',
          kind: 'Deployment',
          namespace: deployment.metadata?.namespace ?? '',
          name: deployment.metadata?.name ?? '',
        },
        this.settings.argocd.namespace,
      ),
    );
  }

  /**
   * Reads the Deployments by name, for detection: one that is not there renders nothing to manage; one that cannot
   * be read is said in a note rather than failing the plan.
   */
  async deployments(
    ctx: DriverContext,
    namespace: string,
    names: readonly string[],
  ): Promise<{ deployments: V1Deployment[]; notes: string[] }> {
    const deployments: V1Deployment[] = [];
    const notes: string[] = [];
    for (const name of names) {
      try {
        deployments.push(await this.api.getDeployment(namespace, name, ctx.signal));
      } catch (error) {
        if (ctx.signal.aborted || !isRollbackError(error)) throw error;
        if (error.code === 'PROVIDER_NOT_FOUND') continue;
        notes.push(`Could not read deployment/${name} to see whether Argo CD or Flux manages it: ${error.message}`);
      }
    }
    return { deployments, notes };
  }

  /** The plan's notes and steps: who manages the target, and whether it would put `from` back. */
  async planWords(
    ctx: DriverContext,
    deployments: readonly V1Deployment[],
    plan: { from: string; releaseIsTarget: boolean },
  ): Promise<GitOpsPlanWords> {
    const owners = this.owners(deployments);
    if (owners.length === 0) return { notes: [], steps: [] };
    const inspections = await inspectAll(this.api, owners, ctx.signal);
    return gitOpsPlanWords(inspections, { target: this.target, suspend: this.settings.suspend, ...plan });
  }

  /**
   * With gitops.suspend: suspends what manages the Deployments now (`read` reads them again: the plan may be minutes
   * old). Without it, reads nothing.
   */
  async suspend(
    ctx: DriverContext,
    read: () => Promise<readonly V1Deployment[]>,
  ): Promise<GitOpsSuspension | undefined> {
    if (!this.settings.suspend) return undefined;
    const owners = this.owners(await read());
    if (owners.length === 0) return undefined;
    const suspension = await suspendControllers(this.api, await inspectAll(this.api, owners, ctx.signal), ctx.signal);
    if (suspension)
      ctx.log.info({ controller: suspension.controller, restore: suspension.restore }, 'gitops suspended');
    return suspension;
  }

  async resume(ctx: DriverContext, suspension: GitOpsSuspension): Promise<string> {
    const words = await resumeControllers(this.api, suspension.restore, ctx.signal);
    ctx.log.info({ controller: suspension.controller, words }, 'gitops resumed');
    return words;
  }
}
