import type { Logger } from '../../log.js';
import type { PlanChange } from '../changes.js';
import type { Plan, StepReport, VerifyCheck, VersionInfo } from '../types.js';

/** What a driver gets for every call: a child logger, a signal that aborts the call, a way to say what it is doing. */
export interface DriverContext {
  log: Logger;
  signal: AbortSignal;
  report(step: StepReport): void;
}

/** The live state of a target. */
export interface LiveState {
  resource: string;
  current: VersionInfo;
  /**
   * Optional: an opaque precondition from this read (a Kubernetes resourceVersion) that `execute` may use
   * so the change applies only if nothing changed since the read that decided it.
   */
  precondition?: string | undefined;
}

export interface PlanOptions {
  /** An explicit version asked for with `/rollback <target> to v<N>`. */
  toVersion?: string | undefined;
}

/**
 * The contract every provider implements. It is the whole of what the core knows about a provider.
 *
 * Part of the contract:
 * - `plan` reads and never changes anything; it pins `from` (live now) and `to` (what comes back) and
 *   throws a RollbackError (VERSION_UNKNOWN, VERSION_NOT_RESTORABLE, NOTHING_TO_ROLL_BACK…) when it cannot.
 * - `live` reads the state the stale-plan check compares with `plan.from`.
 * - `execute` makes `plan.to` live and returns when the provider has accepted it. It is called only after
 *   `live` confirmed `plan.from` is still current, at most once per job run; it must not retry a call whose
 *   effect is unknown (the core re-reads instead). `decided` is that read: where the provider allows a
 *   precondition, the change applies only if the resource is still as that read saw it.
 * - `verify` reads back and returns one check per thing it looked at; it throws only when it cannot look.
 * - Every outside call honours `ctx.signal` and has its own timeout.
 *
 * Not part of it: Slack, queues, locks, approval, the no-undo rule: the core owns those.
 */
export interface RollbackDriver {
  readonly kind: string;
  /**
   * The exact resource this driver acts on, stable across processes: `fastly:<serviceId>`,
   * `helm:<cluster server>/<namespace>/<release>`, `kubernetes:<cluster server>/<namespace>/deployment/<name>`.
   * `plan` copies it into `Plan.identity`; the core refuses a plan whose identity is not this driver's.
   */
  readonly identity: string;
  live(ctx: DriverContext): Promise<LiveState>;
  plan(ctx: DriverContext, options: PlanOptions): Promise<Plan>;
  execute(ctx: DriverContext, plan: Plan, decided?: LiveState): Promise<void>;
  verify(ctx: DriverContext, plan: Plan): Promise<VerifyCheck[]>;
  /**
   * Optional: actions a person may take after a verified rollback, each with its own approval, never run
   * automatically (the Helm runbook's "revert database migrations").
   */
  followUps?(plan: Plan): FollowUp[];
  runFollowUp?(ctx: DriverContext, plan: Plan, id: string): Promise<FollowUpResult>;
  /**
   * Optional: stops a GitOps controller from putting `plan.from` back (Argo CD automated sync, a Flux
   * Kustomization or HelmRelease), when the target is configured to (`gitops.suspend`). Called right before the
   * change, after the deciding read. Returns exactly what it changed, or undefined when there was nothing to
   * suspend (not managed, not configured, or already suspended). Throws when it cannot; nothing is changed then.
   */
  suspendGitOps?(ctx: DriverContext, plan: Plan): Promise<GitOpsSuspension | undefined>;
  /** Puts back exactly what suspendGitOps changed; returns what it did, in words. */
  resumeGitOps?(ctx: DriverContext, suspension: GitOpsSuspension): Promise<string>;
  /**
   * Optional: who or what made `version` live, when the provider says (Fastly's audit log, a Helm revision's
   * description, a Deployment's managed fields, a GitOps controller). For the drift warning; undefined when unknown.
   */
  changedBy?(ctx: DriverContext, version: VersionInfo): Promise<string | undefined>;
  /**
   * Optional: when `version` (the live one) went live, in ms since the epoch, when the provider says (Fastly's
   * newest activation of it, a Helm revision's deploy time, the newest write of a Deployment's pod template). An
   * alert is proposed as a rollback only when it started soon after; undefined when the provider cannot say.
   */
  liveSince?(ctx: DriverContext, version: VersionInfo): Promise<number | undefined>;
  /**
   * Optional: what going from `plan.from` to `plan.to` changes, for the approver (a config diff's summary, values
   * keys, pod template differences). Reads only; names, never secret values. Throws when it cannot read: the
   * core says so in the plan, which still stands.
   */
  changes?(ctx: DriverContext, plan: Plan): Promise<PlanChange[]>;
  /** Optional: the provider's full text diff from `plan.from` to `plan.to` (Fastly's diff endpoint). */
  diff?(ctx: DriverContext, plan: Plan): Promise<string>;
  /**
   * Optional: how many more changes the provider allows before its rate limit resets, from its latest answer
   * (Fastly-RateLimit-Remaining); undefined before any answer said. A multi-target request larger than that is
   * refused at plan time rather than stopped half-way by a 429.
   */
  writeBudget?(): WriteBudget | undefined;
}

/** A provider's rate limit as its latest answer told it. */
export interface WriteBudget {
  /** What shares the limit, for people: "Fastly API token". Drivers with the same pool share one budget. */
  pool: string;
  remaining: number;
  /** Epoch ms when the limit resets; NaN when the provider did not say. */
  resetsAt: number;
  /** Writes one rollback of this driver makes. */
  perRollback: number;
}

/** A revert branch that was pushed: the commit a deploy must contain while its target is frozen. */
export interface RevertRef {
  /** The revert commit (full sha). */
  commit: string;
  branch: string;
  repo: string;
}

/** What a rollback suspended of a GitOps controller, kept so that exactly that can be put back. */
export interface GitOpsSuspension {
  /** For people: "Argo CD application web (namespace argocd)". */
  controller: string;
  /** For people: what was changed, "automated sync (prune, selfHeal) removed". */
  description: string;
  /** What the driver needs to put it back exactly (JSON). Opaque to the core. */
  restore: Record<string, unknown>;
}

export interface FollowUp {
  id: string;
  /** The button: "Revert migration". */
  label: string;
  /** Exactly what will run: "./migrate down 1 in a app=migrator pod (container migrator)". */
  description: string;
  /** A change to production (a migration) needs its own approval; a git branch does not. */
  needsApproval: boolean;
}

export interface FollowUpResult {
  ok: boolean;
  /** What it printed, trimmed to what a thread can show. */
  output: string;
  detail: string;
  /** For the incident record: commits a revert branch undoes. */
  commits?: Array<{ sha: string; subject: string }> | undefined;
  /** A revert branch pushed: its commit, which a deploy must contain while the target is frozen. */
  revert?: RevertRef | undefined;
}

/**
 * One call a driver made to its provider, for the operators' metrics: an HTTP status (Fastly, the Kubernetes
 * API), helm's exit code, or no answer at all (a timeout, a refused or dropped connection).
 */
export type ProviderCall =
  | { provider: string; status: number }
  | { provider: string; exitCode: number }
  | { provider: string; noAnswer: true };

/** Process-wide settings a driver may need (tokens, endpoints), read from the environment once. */
export interface DriverEnvironment {
  /** Told of every call a driver makes to its provider (the bot's metrics); never blocks or throws. */
  observeCall?: ((call: ProviderCall) => void) | undefined;
  fastly?: { token: string; baseUrl: string } | undefined;
  /** A kubeconfig file (KUBECONFIG); unset: ~/.kube/config or the in-cluster service account. */
  kubeconfig?: string | undefined;
  /** The helm binary the Helm driver runs (HELM_BIN). */
  helmBin?: string | undefined;
}
