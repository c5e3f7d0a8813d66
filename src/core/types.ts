import type { PlanChange } from './changes.js';
import type { Text } from './text.js';

/** A version of a deployable thing as people talk about it: "v41", "revision 7". */
export interface VersionInfo {
  /** Stable identifier the provider understands (Fastly version number, Helm revision…), as text. */
  id: string;
  /** How people say it in Slack: "v41". */
  label: string;
  /** One line of context: the version comment, chart and app version, image tags. */
  description?: string | undefined;
  /** This version is itself a rollback to version `restores` (a Helm rollback makes a new revision). */
  restores?: string | undefined;
  /** Container images this version runs, where the provider has them. */
  images?: string[] | undefined;
  /**
   * Facts that tie the version to a git commit: `comment` (Fastly), `appVersion`, `label:<key>`,
   * `annotation:<key>` (Helm chart annotations, Deployment/ReplicaSet annotations).
   */
  meta?: Record<string, string> | undefined;
}

/** How the version to restore was chosen; shown in the plan so nobody has to guess. */
export type Selection = 'history' | 'inferred' | 'explicit';

/** A pinned rollback plan: what is live now and exactly what will come back. */
export interface Plan {
  target: string;
  kind: string;
  /** The thing being rolled back, for people: "Fastly service www-prod (SU1Z…)". */
  resource: string;
  /**
   * What the plan was made for, exactly: the driver's `identity` when it planned (Fastly service ID; Helm
   * cluster, namespace and release; Deployment cluster, namespace and name). A worker whose configuration
   * maps the target to anything else refuses the plan. Absent only in plans queued by older versions.
   */
  identity?: string | undefined;
  from: VersionInfo;
  to: VersionInfo;
  selection: Selection;
  /** Facts the approver should know: "chosen from the activation history", "v43 skipped: never activated". */
  notes: string[];
  /** The thread's line once the change is made: "Activated v41", "helm rollback app 7 finished". */
  actionDone: string;
  /** What will run, in order, in plain words. */
  steps: string[];
  /** The runbook's time budget from approval to verified ("under 60 seconds" for Fastly). */
  budgetMs: number;
  /**
   * What the rollback changes (the config diff, values keys, pod template, commits taken out), read at plan
   * time; absent in plans made before it was read, or by a driver that has nothing to say.
   */
  changes?: PlanChange[] | undefined;
}

/** A rollback that happened, remembered so that it is not undone from the same pipeline. */
export interface RollbackRecord {
  requestId: string;
  target: string;
  from: VersionInfo;
  to: VersionInfo;
  at: string;
  by: string;
}

type StepStatus = 'ok' | 'failed' | 'info' | 'progress';

/** One line in the incident thread. */
export interface StepReport {
  status: StepStatus;
  /** Words for people: a string as it came (provider output too), or words with references (errors' hints). */
  text: string | Text;
  durationMs?: number;
}

/** One verification check with the figure it saw. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}
