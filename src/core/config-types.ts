/** What the core is configured with; config/ reads and validates it (loadConfig), the core only uses it. */

/** One entry of `targets:` in rollback.yml. */
export interface TargetConfig {
  name: string;
  kind: string;
  /** The target's entry, validated by its driver's schema. */
  settings: Record<string, unknown>;
  /** How often the drift watch reads it while it is frozen (its driftCheckEvery, else the file's; 30 s). */
  driftCheckEveryMs?: number | undefined;
  /** Its own approval settings (`approvers`, `allowSelfApproval` in its entry), if any. */
  approval?: TargetApproval | undefined;
  /** Which alerts are about it and how soon after a deploy they propose a rollback (`alerts:`); unset: 30 min, by label. */
  alerts?: TargetAlerts | undefined;
}

/** Alerts that name a target propose rolling it back when they start within proposeWithinMs of its last deploy. */
interface TargetAlerts {
  /** Labels an alert must carry, all of them, to be about this target (besides `rollback_target: <name>`). */
  match?: Record<string, string> | undefined;
  proposeWithinMs: number;
}

/** A target's own approval settings; each one unset means the file's. */
export interface TargetApproval {
  approvers?: string[] | undefined;
  allowSelfApproval?: boolean | undefined;
  /** Its own `selfApprovalAfter`: false when the entry turns it off (`off`). */
  selfApprovalAfterMs?: number | false | undefined;
}

/** Who may approve, where the notice goes, how long a request stays open. */
export interface Rules {
  incidentChannel: string;
  approvers: string[];
  allowSelfApproval: boolean;
  /**
   * `selfApprovalAfter` (break-glass): after this long with no approver acting on a request, its requester may
   * approve it, confirming with the target's name. Unset: never.
   */
  selfApprovalAfterMs?: number | undefined;
  requestTtlMs: number;
}
