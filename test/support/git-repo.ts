import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execGit = promisify(execFile);

/** A developer's identity for the commits tests make (the bot's own commits name the bot). */
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
};

/** `git <args>` in `cwd`; its stdout, trimmed. */
export const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await execGit('git', args, { cwd, env: GIT_ENV })).stdout.trim();

const DEPLOY_SUBJECTS = ['Serve from new origin', 'Tighten cache TTL', 'Rewrite VCL for redirects'];

/**
 * A bare "origin" whose main has one commit per subject (three deploys by default), and a working clone to push
 * from; the commits' shas in order. In `dir`, or a new temporary directory.
 */
export async function repository(
  dir = mkdtempSync(join(tmpdir(), 'rr-git-')),
  subjects: readonly string[] = DEPLOY_SUBJECTS,
): Promise<{ bare: string; work: string; shas: string[] }> {
  const bare = join(dir, 'origin.git');
  await git(dir, 'init', '--bare', '--initial-branch=main', bare);
  const work = join(dir, 'work');
  await git(dir, 'clone', bare, work);
  const shas: string[] = [];
  for (const [i, subject] of subjects.entries()) {
    writeFileSync(join(work, 'main.vcl'), `# deploy ${i + 1}\nset ttl = ${60 * (i + 1)}s;\n`);
    await git(work, 'add', '.');
    await git(work, 'commit', '-m', subject);
    shas.push(await git(work, 'rev-parse', 'HEAD'));
  }
  await git(work, 'push', 'origin', 'HEAD:main');
  return { bare, work, shas };
}

/** A commit on top of `base` in the working clone (a file of its own), pushed as `branch`; its sha. */
export async function pushCommit(
  work: string,
  base: string,
  branch: string,
  file: string,
  subject = `Work on ${branch}`,
): Promise<string> {
  await git(work, 'fetch', 'origin');
  await git(work, 'checkout', '--detach', base);
  writeFileSync(join(work, file), `${subject}\n`);
  await git(work, 'add', '.');
  await git(work, 'commit', '-m', subject);
  await git(work, 'push', 'origin', `HEAD:refs/heads/${branch}`);
  return git(work, 'rev-parse', 'HEAD');
}
