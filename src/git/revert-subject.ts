/** What one revert-branch run is about: the names every step and every message of it uses. */
export interface RevertSubject {
  /** git.repo of the target. */
  repo: string;
  /** git.branch of the target: the branch that is reverted. */
  base: string;
  /** rollback/<target>-<requestId> */
  branch: string;
  target: string;
  requestId: string;
  /** The version rolled back to ("v41") and the field of it that names its commit. */
  to: { label: string; field: string };
}
