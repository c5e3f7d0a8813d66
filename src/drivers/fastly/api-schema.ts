/**
 * What rapid-rollback reads from the Fastly API, as zod schemas over the raw JSON bodies (not the
 * `fastly` package's model objects, which convert dates and drop unknown shapes silently).
 * Only the fields we use are required; everything else passes through unchecked and is dropped.
 */
import { z } from 'zod';

/** `SchemasVersionResponse` in the API reference: one entry of a service's `versions`. */
export const versionSchema = z.object({
  number: z.number().int().positive(),
  active: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  locked: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  comment: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  updated_at: z
    .string()
    .nullish()
    .transform((v) => v ?? null),
});
export type VersionBody = z.infer<typeof versionSchema>;

/** `GET /service/{id}/details`. `active_version` is null when nothing is live. */
export const serviceDetailSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  versions: z.array(versionSchema),
  active_version: z.object({ number: z.number().int().positive() }).nullish(),
});

/** `GET /events` (JSON:API). Attributes per the API reference's "Event logs" data model. */
const eventSchema = z.object({
  id: z.string(),
  attributes: z.object({
    created_at: z.string(),
    description: z
      .string()
      .nullish()
      .transform((v) => v ?? ''),
    event_type: z.string(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    service_id: z.string().nullish(),
    user_id: z.string().nullish(),
  }),
});
export type EventBody = z.infer<typeof eventSchema>;

export const eventsResponseSchema = z.object({
  data: z.array(eventSchema),
  meta: z.object({ record_count: z.number().optional(), total_pages: z.number().optional() }).partial().optional(),
});

/**
 * Error bodies: most endpoints answer `{ msg, detail }`; JSON:API endpoints may answer
 * `{ errors: [{ title, detail }] }`. Anything else (an HTML page from a proxy) fails to parse and
 * the caller falls back to the status line.
 */
const errorBodySchema = z.union([
  z.object({ msg: z.string(), detail: z.string().nullish() }),
  z.object({ errors: z.array(z.object({ title: z.string().nullish(), detail: z.string().nullish() })).min(1) }),
]);

/** What Fastly said went wrong, in one line, or undefined when the body says nothing usable. */
export function errorText(body: unknown): string | undefined {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  if ('msg' in parsed.data) return parsed.data.detail ? `${parsed.data.msg} (${parsed.data.detail})` : parsed.data.msg;
  return (
    parsed.data.errors
      .map((e) => [e.title, e.detail].filter(Boolean).join(': '))
      .filter(Boolean)
      .join('; ') || undefined
  );
}

const versionNumberSchema = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^[1-9]\d*$/)
    .transform(Number),
]);

/**
 * The version a `version.activate` event activated.
 *
 * What this relies on: Fastly's audit-log guide ("Monitoring account activity with the audit log")
 * shows a `version.activate` event as
 *   { attributes: { description: "Version 2 was activated", event_type: "version.activate",
 *                   metadata: { version_number: 2 }, service_id, user_id, created_at, ... } }.
 * The API reference types `metadata` only as "hash of key value pairs", so `version_number` is
 * read first, `version` as a fallback, and the description ("Version N was activated") last.
 * An event none of these identify is skipped rather than guessed.
 */
export function activatedVersion(event: EventBody): number | undefined {
  const metadata = event.attributes.metadata ?? {};
  for (const key of ['version_number', 'version']) {
    const parsed = versionNumberSchema.safeParse(metadata[key]);
    if (parsed.success) return parsed.data;
  }
  const match = /\bversion\s+#?(\d+)\b/i.exec(event.attributes.description);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** `GET /service/{id}/diff/from/{a}/to/{b}` (`DiffResponse`): the whole configuration when the two are identical. */
export const diffResponseSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  format: z.string(),
  diff: z.string(),
});
