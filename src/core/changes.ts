/**
 * What a rollback changes, beyond two version labels: facts read at plan time for the approver. Each is a
 * summary (counts and names, never a secret's value); a part that could not be read says why instead.
 */

/** One object of a Fastly service whose configuration differs: a backend, a domain, a VCL snippet… */
export interface DiffObject {
  /** The object's kind, singular: 'backend', 'domain', 'snippet', 'condition', 'vcl'… */
  type: string;
  name: string;
}

/** One difference in a pod template between what runs now and what the rollback brings back. */
export type PodTemplateDifference =
  /** A container only one side has. */
  | { container: string; field: 'container'; change: 'added' | 'removed' }
  /** The image, the resources (requests and limits, as `cpu=100m memory=64Mi`), the command or the args. */
  | { container: string; field: 'image' | 'resources' | 'command' | 'args'; from: string; to: string }
  /** Environment variables by name only (values may be secrets): added, removed or changed by the rollback. */
  | { container: string; field: 'env'; added: string[]; removed: string[]; changed: string[] };

/** A commit that leaves production with the rollback. */
export interface CommitOut {
  /** Short sha. */
  sha: string;
  subject: string;
  author: string;
}

/** Names a change keeps (it crosses Redis with the plan); past them, only how many more. */
export const NAMES_KEPT = 50;

export type PlanChange =
  /** The provider's diff of the two versions' configuration (Fastly): its size and the objects it touches. */
  | { kind: 'config-diff'; added: number; removed: number; objects: DiffObject[]; moreObjects?: number | undefined }
  /** Helm values keys (paths such as `image.tag`) whose values differ between the two revisions; names only. */
  | { kind: 'values-keys'; keys: string[]; more?: number | undefined }
  | { kind: 'pod-template'; differences: PodTemplateDifference[] }
  /** Commits the rollback takes out of production, newest first: at most ten, and how many more. */
  | { kind: 'commits'; repo: string; commits: CommitOut[]; more: number }
  /** A part that could not be read: `about` names it ("diff", "values keys", "commits"), `reason` says why. */
  | { kind: 'unavailable'; about: string; reason: string };
