import { z } from 'zod';
import type { Alert } from '../core/alerts.js';

/**
 * Alertmanager's webhook body, version 4 (prometheus/alertmanager notify/webhook/webhook.go: Message, and
 * template.Data's alerts). Times are RFC 3339 (Go writes nanoseconds); a firing alert's endsAt may be Go's zero
 * time. Fields this bot does not read (groupKey, receiver, externalURL, generatorURL…) may be anything.
 */
const time = z.string().transform((value, ctx) => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not an RFC 3339 time` });
    return z.NEVER;
  }
  return ms;
});

const labels = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: time,
  endsAt: time.optional(),
  fingerprint: z.string().min(1, 'is empty: Alertmanager sends each alert with its fingerprint'),
});

export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4', { error: 'must be "4": this route reads Alertmanager\'s webhook payload version 4' }),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(alertSchema).max(1_000, 'has more than 1000 alerts; set max_alerts in the webhook_config'),
});

/** The alerts of a parsed payload, as the core reads them. */
export function alertsOf(payload: z.output<typeof alertmanagerPayloadSchema>): Alert[] {
  return payload.alerts.map((a) => ({
    fingerprint: a.fingerprint,
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    // Go's zero time (0001-01-01) on a firing alert: not an end.
    endsAt: a.endsAt !== undefined && a.endsAt > 0 ? a.endsAt : undefined,
  }));
}

/** "alerts.0.startsAt: … is not an RFC 3339 time; version: must be "4"": zod's issues, for a 400 body. */
export function payloadProblems(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    .join('; ');
}
