import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * Where the repository lives. A URL git can fetch over ssh or https, an scp-like ssh address, or an
 * absolute local path (a bare repository on the worker, the demo). Never a password in the URL: the
 * token comes from GIT_TOKEN, so it is not written into rollback.yml, the clone's config or a log.
 */
const repoSchema = z
  .string({ error: 'is required: the repository to revert, e.g. git@github.com:acme/cdn-config.git' })
  .trim()
  .min(1, 'is required: the repository to revert, e.g. git@github.com:acme/cdn-config.git')
  .superRefine((repo, ctx) => {
    const problem = repoProblem(repo);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

function repoProblem(repo: string): string | undefined {
  if (repo.startsWith('-') || /\s/.test(repo))
    return 'must be a repository URL or path, without spaces or a leading "-"';
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/\\]/.test(repo)) return undefined; // git@github.com:acme/x.git
  if (isAbsolute(repo)) return undefined;
  let url: URL;
  try {
    url = new URL(repo);
  } catch {
    return 'must be an ssh or https URL (git@github.com:acme/x.git, https://github.com/acme/x.git) or an absolute path';
  }
  if (!['ssh:', 'https:', 'file:'].includes(url.protocol)) {
    return `uses ${url.protocol.replace(/:$/, '')}://, which is not allowed: use ssh://, https:// (a token goes in GIT_TOKEN) or a path`;
  }
  if (url.password) return "must not carry a password or token: set GIT_TOKEN in the worker's environment instead";
  if (url.protocol === 'https:' && url.username)
    return 'must not carry a user name for https: the token in GIT_TOKEN is sent on its own';
  return undefined;
}

/** A branch name `git check-ref-format --branch` accepts, kept to the plain characters people use. */
const branchSchema = z
  .string()
  .regex(
    /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\/\.)(?!.*\.lock(\/|$))(?!\.)[A-Za-z0-9._/-]+(?<![./])$/,
    'must be a plain branch name such as main or release/2026',
  );

/** Where in a version's `meta` the deployed commit is written. */
const commitFromSchema = z.union([
  z.enum(['comment', 'appVersion']),
  z
    .string()
    .regex(/^(label|annotation):[A-Za-z0-9._/-]+$/, 'must be comment, appVersion, label:<key> or annotation:<key>'),
]);

/** A regular expression with exactly one capture group: the commit. */
const patternSchema = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    let groups: number;
    try {
      // An alternation with the empty string always matches, so the match length counts the groups.
      groups = (new RegExp(`${source}|`).exec('')?.length ?? 1) - 1;
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `is not a regular expression: ${error instanceof Error ? error.message : String(error)}`,
      });
      return;
    }
    if (groups !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `must have exactly one capture group, the commit (it has ${groups}); use (?:…) for the others`,
      });
    }
  });

/**
 * A target's optional `git:` block in rollback.yml: after a verified rollback, the bot makes a branch
 * that reverts the repository to the commit now live (the runbook's "Revert Git changes").
 */
export const gitSettingsSchema = z
  .object({
    repo: repoSchema,
    branch: branchSchema.default('main'),
    commitFrom: commitFromSchema.default('comment'),
    /** Default: the first 7–40 hex run that stands as a word (see commit-mapping.ts). */
    pattern: patternSchema.optional(),
    /** false: the thread offers a "Create revert branch" button; true: made at once after verification. */
    autoRevert: z.boolean().default(false),
  })
  .strict();

export type GitSettings = z.infer<typeof gitSettingsSchema>;
