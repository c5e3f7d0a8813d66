import type { TargetConfig } from './config-types.js';
import { literal, type Text, text } from './text.js';

/** The label that names a target outright, whatever rollback.yml's matchers say. */
export const TARGET_LABEL = 'rollback_target';

/** Who asks for a rollback an alert proposes: a name, not a Slack user, so any approver may approve it. */
export const ALERT_REQUESTER = 'Alertmanager';

/** One alert as a monitoring system reports it (Alertmanager's webhook, parsed at the HTTP boundary). */
export interface Alert {
  /** Stable for one alert (its label set); with startsAt it names one firing of it. */
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ms since the epoch */
  startsAt: number;
  /** ms since the epoch; for a resolved alert, when it resolved. */
  endsAt: number | undefined;
}

/** What was done with one alert, for the caller (the HTTP answer) and the log. */
export interface AlertOutcome {
  fingerprint: string;
  alertname: string;
  status: Alert['status'];
  result:
    | 'proposed'
    | 'added'
    | 'resolved'
    | 'repeat'
    | 'no-target'
    | 'outside-window'
    | 'locked'
    | 'frozen'
    | 'deploy-time-unknown'
    | 'refused'
    | 'not-open'
    | 'declined'
    | 'retry';
  target?: string | undefined;
  /** The proposal's request, or the running rollback that kept the alert from proposing one. */
  request?: string | undefined;
  /** In plain words. */
  detail: string;
}

/** An alert on an open proposal's message. */
export interface ProposalAlert {
  fingerprint: string;
  name: string;
  startsAt: number;
  /** Its `summary` annotation, as written (outside text: every front end escapes it). */
  summary?: string | undefined;
  resolvedAt?: number | undefined;
}

export function alertName(alert: Pick<Alert, 'labels'>): string {
  return alert.labels.alertname || 'An alert';
}

/**
 * The targets an alert is about: the one its `rollback_target` label names (when rollback.yml has it), else every
 * target whose `alerts.match` labels the alert all carries.
 */
export function targetsOf(alert: Pick<Alert, 'labels'>, targets: readonly TargetConfig[]): TargetConfig[] {
  const named = alert.labels[TARGET_LABEL];
  if (named !== undefined) return targets.filter((t) => t.name === named);
  return targets.filter((t) => {
    const match = t.alerts?.match;
    return match !== undefined && Object.entries(match).every(([label, value]) => alert.labels[label] === value);
  });
}

/** "02:14": a time of day in UTC, as the incident channel reads it. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** "3 min", "under a minute": how long after the deploy an alert started. */
export function minutesAfter(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes < 1 ? 'under a minute' : `${minutes} min`;
}

/** "🔔 HighErrorRate firing for cdn since 02:14, 3 min after v42 went live. Roll back to v41?" */
export function proposalHeadline(
  first: ProposalAlert,
  facts: { target: string; from: string; to: string; liveSince: number },
): Text {
  return text`🔔 ${first.name} firing for ${facts.target} since ${clock(first.startsAt)}, ${minutesAfter(first.startsAt - facts.liveSince)} after ${facts.from} went live. Roll back to ${facts.to}?`;
}

/** One alert's line under the headline: "HighErrorRate since 02:14: 5xx above 1 % — resolved at 02:20; consider Cancel". */
export function alertLine(alert: ProposalAlert): Text {
  const summary = alert.summary ? text`: ${alert.summary.slice(0, 300)}` : literal('');
  const resolved =
    alert.resolvedAt === undefined ? literal('') : text` — resolved at ${clock(alert.resolvedAt)}; consider Cancel`;
  return text`${alert.name} firing since ${clock(alert.startsAt)}${summary}${resolved}`;
}
