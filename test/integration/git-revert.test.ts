import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollbackError } from '../../src/core/errors.js';
import type { StepReport, VersionInfo } from '../../src/core/types.js';
import { createRevertBranch, type RevertBranchRequest } from '../../src/git/revert-branch.js';
import { gitSettingsSchema } from '../../src/git/schema.js';
import { createLogger, silentLogger } from '../../src/log.js';

/** Real git, local bare remotes in a temp directory: no network, no mocks. */
const root = mkdtempSync(join(tmpdir(), 'rr-git-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fixtureEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** git in `cwd`, its output trimmed; `input` goes to its stdin. Never blocks the other tests running beside. */
function git(cwd: string, ...args: string[]): Promise<string> {
  return gitWith(cwd, args);
}

function gitWith(cwd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, env: fixtureEnv, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`git ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout.trim()),
    );
    // A git that stops early (an error) closes its input: that is in its answer, not a failure here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** For a step report, which must change the clone before the bot's next git command runs. */
function gitNow(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, env: fixtureEnv, stdio: 'ignore' });
}

let counter = 0;

/** A commit to write: its parents are shas, or earlier commits of the same call by index. */
interface NewCommit {
  subject: string;
  files?: Record<string, string | null>;
  /** Default: the commit before it in the same call, or none for the first. */
  parents?: Array<string | number>;
  /** The branch it becomes the tip of; default main. */
  branch?: string;
}

/** A bare "origin" whose history is written straight into it, one git process for many commits. */
async function makeRemote(): Promise<{ origin: string; commits: (list: NewCommit[]) => Promise<string[]> }> {
  const origin = join(root, `repo-${++counter}`, 'origin.git');
  await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  const commits = async (list: NewCommit[]): Promise<string[]> => {
    const marks = join(origin, `marks-${++counter}`);
    const stream = list.map((c, i) => fastImportCommit(c, i)).join('');
    await gitWith(origin, ['fast-import', '--quiet', '--date-format=now', `--export-marks=${marks}`], stream);
    const shas = new Map(
      readFileSync(marks, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    return list.map((_, i) => shas.get(`:${i + 1}`)!);
  };
  return { origin, commits };
}

function fastImportCommit(c: NewCommit, index: number): string {
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const ref = (parent: string | number) => (typeof parent === 'number' ? `:${parent + 1}` : parent);
  const [from, ...merges] = (c.parents ?? (index > 0 ? [index - 1] : [])).map(ref);
  const changes = Object.entries(c.files ?? {}).map(([name, content]) =>
    content === null ? `D ${name}\n` : `M 100644 inline ${name}\n${data(content)}`,
  );
  return [
    `commit refs/heads/${c.branch ?? 'main'}\n`,
    `mark :${index + 1}\n`,
    'committer Dev <dev@example.com> now\n',
    data(c.subject),
    from ? `from ${from}\n` : '',
    ...merges.map((m) => `merge ${m}\n`),
    ...changes,
    '\n',
  ].join('');
}

/** c1 good … c4 bad, on main. */
async function linearHistory() {
  const remote = await makeRemote();
  const [c1, c2, c3, c4] = (await remote.commits([
    { subject: 'c1: first config', files: { 'main.vcl': 'backend a;\nsub vcl_recv {}\n', 'README.md': '# cdn\n' } },
    { subject: 'c2: switch backend', files: { 'main.vcl': 'backend b;\nsub vcl_recv {}\n' } },
    { subject: 'c3: add extra.vcl', files: { 'extra.vcl': 'sub extra {}\n' } },
    { subject: 'c4: drop main.vcl', files: { 'README.md': '# cdn\nnow with b\n', 'main.vcl': null } },
  ])) as [string, string, string, string];
  return { ...remote, c1, c2, c3, c4 };
}

function v(id: string, comment: string): VersionInfo {
  return { id, label: `v${id}`, meta: { comment } };
}

function request(
  origin: string,
  good: string,
  bad: string,
  over: Partial<RevertBranchRequest> = {},
): RevertBranchRequest {
  return {
    settings: gitSettingsSchema.parse({ repo: origin }),
    target: 'cdn',
    requestId: `rb-moq1x2ab-${String(++counter).padStart(6, '0')}`,
    from: v('42', `Deploy ${bad.slice(0, 7)} by ci`),
    to: v('41', `Deploy ${good.slice(0, 7)} by ci`),
    cacheDir: join(root, `cache-${counter}`),
    ...over,
  };
}

const ctx = () => ({ signal: new AbortController().signal, log: silentLogger() });

async function remoteHas(origin: string, ref: string): Promise<boolean> {
  return git(origin, 'rev-parse', '--verify', '--quiet', ref).then(
    () => true,
    () => false,
  );
}

/** The one cached clone under cacheDir. */
function cachedClone(cacheDir: string): string {
  const dirs = readdirSync(cacheDir).filter((d) => !d.endsWith('.lock') && !d.includes('.tmp-'));
  expect(dirs).toHaveLength(1);
  return join(cacheDir, dirs[0]!);
}

async function expectCloneClean(cacheDir: string, branch: string): Promise<void> {
  const clone = cachedClone(cacheDir);
  expect(await git(clone, 'status', '--porcelain')).toBe('');
  expect(await git(clone, 'branch', '--list', branch)).toBe('');
}

async function failure(promise: Promise<unknown>): Promise<RollbackError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RollbackError);
  return error as RollbackError;
}

/** The tree of a commit in `repo`, to compare files. */
const treeOf = (repo: string, commit: string) => git(repo, 'rev-parse', `${commit}^{tree}`);

// Each test has its own remote and cache directory, so they run side by side.
describe.concurrent('createRevertBranch on real git', () => {
  it("pushes one commit on top of main whose files are the good commit's, naming target, versions and request", async () => {
    const h = await linearHistory();
    const req = request(h.origin, h.c1, h.c4);
    const steps: StepReport[] = [];
    const result = await createRevertBranch(req, { ...ctx(), report: (s) => steps.push(s) });

    const branch = `rollback/cdn-${req.requestId}`;
    expect(result.branch).toBe(branch);
    expect(result.reused).toBe(false);
    expect(result.goodCommit).toBe(h.c1);
    expect(result.headCommit).toBe(h.c4);
    expect(await git(h.origin, 'rev-parse', `refs/heads/${branch}`)).toBe(result.revertCommit);
    expect(await treeOf(h.origin, result.revertCommit)).toBe(await treeOf(h.origin, h.c1));
    const parents = await git(h.origin, 'rev-list', '--parents', '-n', '1', result.revertCommit);
    expect(parents.split(' ').slice(1)).toEqual([h.c4]);
    expect(await git(h.origin, 'rev-parse', 'refs/heads/main')).toBe(h.c4);

    const message = await git(h.origin, 'log', '-1', '--format=%B', result.revertCommit);
    expect(message.split('\n')[0]).toBe(`Revert cdn to v41 (rollback ${req.requestId})`);
    expect(message).toContain('from v42');
    expect(message).toContain('Undoes 3 commits');
    expect(message).toContain(`Rollback-Request: ${req.requestId}`);
    expect(await git(h.origin, 'log', '-1', '--format=%an <%ae> / %cn', result.revertCommit)).toBe(
      'rapid-rollback <rapid-rollback@users.noreply.invalid> / rapid-rollback',
    );

    expect(result.undone).toEqual([
      { sha: h.c4, subject: 'c4: drop main.vcl' },
      { sha: h.c3, subject: 'c3: add extra.vcl' },
      { sha: h.c2, subject: 'c2: switch backend' },
    ]);
    expect(result.mergeRequestUrl).toBeUndefined(); // a local path is neither GitHub nor GitLab
    expect(steps.map((s) => s.text).at(-1)).toBe(`Pushed ${branch}: 3 commits undone`);
    await expectCloneClean(req.cacheDir, branch);
  });

  it('a second call for the same request returns the branch already pushed and pushes nothing', async () => {
    const h = await linearHistory();
    const req = request(h.origin, h.c1, h.c4, { author: { name: 'Ana Approver', email: 'ana@example.com' } });
    const first = await createRevertBranch(req, ctx());
    // main moved on; the request's branch stays what it was
    await h.commits([{ subject: 'c5: after the rollback', files: { 'later.txt': 'x\n' }, parents: [h.c4] }]);

    const second = await createRevertBranch(req, ctx());
    expect(second).toEqual({ ...first, reused: true });
    expect(await git(h.origin, 'rev-parse', `refs/heads/${first.branch}`)).toBe(first.revertCommit);
    expect(await git(h.origin, 'log', '-1', '--format=%an', first.revertCommit)).toBe('Ana Approver');

    // someone pushed a fix onto the branch: it is theirs now, and is not touched
    const [moved] = await h.commits([
      {
        subject: 'fix on the revert branch',
        files: { 'fix.txt': 'fix\n' },
        parents: [first.revertCommit],
        branch: first.branch,
      },
    ]);

    const error = await failure(createRevertBranch(req, ctx()));
    expect(error.code).toBe('GIT_FAILED');
    expect(error.message).toContain(`${first.branch} already exists`);
    expect(error.toUserText()).toContain(`git push origin --delete ${first.branch}`);
    expect(await git(h.origin, 'rev-parse', `refs/heads/${first.branch}`)).toBe(moved);
  });

  it('two requests on one repository at once take turns in the cached clone, and both branches are pushed', async () => {
    const h = await linearHistory();
    const a = request(h.origin, h.c1, h.c4);
    const b = request(h.origin, h.c2, h.c4, { target: 'cdn-eu', cacheDir: a.cacheDir });
    const [ra, rb] = await Promise.all([createRevertBranch(a, ctx()), createRevertBranch(b, ctx())]);
    expect(await treeOf(h.origin, ra.revertCommit)).toBe(await treeOf(h.origin, h.c1));
    expect(await treeOf(h.origin, rb.revertCommit)).toBe(await treeOf(h.origin, h.c2));
    expect(rb.undone.map((c) => c.sha)).toEqual([h.c4, h.c3]);
    await expectCloneClean(a.cacheDir, ra.branch);
    await expectCloneClean(a.cacheDir, rb.branch);
  });

  it('reverts merge commits against their first parent, which the plain range cannot', async () => {
    const r = await makeRemote();
    const [c1, , c2, merge, c3] = (await r.commits([
      { subject: 'c1: good', files: { 'a.txt': 'a1\n', 'b.txt': 'b1\n' } },
      { subject: 'f1: feature work', files: { 'a.txt': 'a-feature\n' }, branch: 'feature' },
      { subject: 'c2: on main', files: { 'b.txt': 'b2\n' }, parents: [0] },
      { subject: 'Merge pull request #7 from acme/feature', files: { 'a.txt': 'a-feature\n' }, parents: [2, 1] },
      { subject: 'c3: bad', files: { 'c.txt': 'c\n' } },
    ])) as [string, string, string, string, string];

    const req = request(r.origin, c1, c3);
    const result = await createRevertBranch(req, ctx());
    expect(await treeOf(r.origin, result.revertCommit)).toBe(await treeOf(r.origin, c1));
    expect(result.undone.map((c) => c.sha)).toEqual([c3, merge, c2]);
    expect(result.undone[1]!.subject).toBe('Merge pull request #7 from acme/feature');
    await expectCloneClean(req.cacheDir, result.branch);
  });

  it('refuses a good commit reachable only through a merge (deployed from a feature branch), with what to do', async () => {
    const r = await makeRemote();
    const [, f1, , , c3] = (await r.commits([
      { subject: 'c1', files: { 'a.txt': 'a1\n' } },
      { subject: 'f1: deployed from the branch', files: { 'a.txt': 'a-feature\n' }, branch: 'feature' },
      { subject: 'c2', files: { 'b.txt': 'b\n' }, parents: [0] },
      { subject: 'merge feature', files: { 'a.txt': 'a-feature\n' }, parents: [2, 1] },
      { subject: 'c3', files: { 'c.txt': 'c\n' } },
    ])) as [string, string, string, string, string];

    const req = request(r.origin, f1, c3);
    const error = await failure(createRevertBranch(req, ctx()));
    expect(error.code).toBe('GIT_FAILED');
    expect(error.message).toContain('only through a merge');
    expect(error.toUserText()).toContain(`git read-tree -u --reset ${f1.slice(0, 12)}`);
    expect(await remoteHas(r.origin, `refs/heads/rollback/cdn-${req.requestId}`)).toBe(false);
    await expectCloneClean(req.cacheDir, `rollback/cdn-${req.requestId}`);
  });

  it('a conflict during the revert: aborted, clone clean, nothing pushed, files and commands in the error', async () => {
    const h = await linearHistory();
    const req = request(h.origin, h.c1, h.c4);
    const branch = `rollback/cdn-${req.requestId}`;
    // On a clean clone, reverting newest first cannot conflict (each revert meets exactly the files it
    // undoes). What can is a clone that changed under the revert: another process, a person. Make that
    // happen just before git revert runs: README.md, which c4 changed, is changed and staged.
    const report = (step: StepReport) => {
      if (!String(step.text).startsWith('Reverting')) return;
      const clone = cachedClone(req.cacheDir);
      writeFileSync(join(clone, 'README.md'), '# cdn\nsomeone else\n');
      gitNow(clone, 'add', 'README.md');
    };
    const error = await failure(createRevertBranch(req, { ...ctx(), report }));
    expect(error.code).toBe('GIT_FAILED');
    expect(error.message).toContain('README.md');
    expect(error.message).toContain('Nothing was pushed');
    expect(error.details.files).toEqual(['README.md']);
    expect(error.toUserText()).toContain(
      `git fetch origin && git checkout -b ${branch} origin/main && git revert --no-commit ${h.c1.slice(0, 12)}..HEAD\n` +
        `then resolve the conflicts and \`git add\` the files, then: git commit && git push -u origin ${branch}`,
    );
    expect(await remoteHas(h.origin, `refs/heads/${branch}`)).toBe(false);
    await expectCloneClean(req.cacheDir, branch);
    expect(await git(cachedClone(req.cacheDir), 'rev-parse', 'HEAD')).toBe(h.c4);

    // the clone is usable again straight away
    const again = await createRevertBranch({ ...req, requestId: `${req.requestId.slice(0, -1)}z` }, ctx());
    expect(await treeOf(h.origin, again.revertCommit)).toBe(await treeOf(h.origin, h.c1));
  });

  it("a push the remote refuses: git's reason in the error, no branch on the remote, local branch gone", async () => {
    const h = await linearHistory();
    const hook = join(h.origin, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      '#!/bin/sh\necho "branch policy: rollback branches need a change ticket (CHG-1234)" >&2\nexit 1\n',
    );
    chmodSync(hook, 0o755);
    const req = request(h.origin, h.c1, h.c4);
    const branch = `rollback/cdn-${req.requestId}`;

    const error = await failure(createRevertBranch(req, ctx()));
    expect(error.code).toBe('PROVIDER_REJECTED');
    expect(error.message).toContain('branch policy: rollback branches need a change ticket (CHG-1234)');
    expect(error.message).toContain('pre-receive hook declined');
    expect(error.toUserText()).toContain(
      `git revert --no-commit ${h.c1.slice(0, 12)}..HEAD && git commit && git push -u origin ${branch}`,
    );
    expect(await remoteHas(h.origin, `refs/heads/${branch}`)).toBe(false);
    await expectCloneClean(req.cacheDir, branch);
  });

  it('a commit the repository does not have, a version with no commit, and nothing to revert: each said plainly', async () => {
    const h = await linearHistory();

    const unknown = await failure(createRevertBranch(request(h.origin, 'deadbee1234567', h.c4), ctx()));
    expect(unknown.code).toBe('VERSION_UNKNOWN');
    expect(unknown.message).toContain("Commit deadbee (read from v41's comment) is not in");

    const unmapped = request(h.origin, h.c1, h.c4, { to: v('41', 'hotfix by hand, see INC-7') });
    const noMapping = await failure(createRevertBranch(unmapped, ctx()));
    expect(noMapping.code).toBe('VERSION_UNKNOWN');
    expect(noMapping.message).toBe(
      'Cannot tell which commit cdn v41 was built from: v41\'s comment is "hotfix by hand, see INC-7", and it holds no commit sha (7 to 40 hex characters).',
    );
    expect(noMapping.toUserText()).toContain('git revert --no-commit <commit of v41>..HEAD');

    const same = request(h.origin, h.c4, h.c4);
    const nothing = await failure(createRevertBranch(same, ctx()));
    expect(nothing.code).toBe('NOTHING_TO_ROLL_BACK');
    expect(nothing.message).toContain('already holds exactly the files of cdn v41');
    expect(await remoteHas(h.origin, `refs/heads/rollback/cdn-${same.requestId}`)).toBe(false);
  });

  it('refuses request IDs that would not make a valid branch name, before touching git', async () => {
    const origin = join(root, 'never-read.git');
    // What `git check-ref-format --normalize` refuses or would change.
    for (const requestId of ['rb..x', 'rb.lock', 'rb@{1}', 'rb x', 'rb~1', 'rb:x', 'rb//x', 'rb/', 'rb/.x', 'rb.']) {
      const req = request(origin, 'abc1234', 'def5678', { requestId });
      const error = await failure(createRevertBranch(req, ctx()));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(`rollback/cdn-${requestId}`);
      expect(existsSync(req.cacheDir)).toBe(false);
    }
  });

  it('stops at once when the signal is already aborted, nothing pushed', async () => {
    const h = await linearHistory();
    const req = request(h.origin, h.c1, h.c4);
    const controller = new AbortController();
    controller.abort();
    const error = await failure(createRevertBranch(req, { signal: controller.signal, log: silentLogger() }));
    expect(error.code).toBe('PROVIDER_TIMEOUT');
    expect(await remoteHas(h.origin, `refs/heads/rollback/cdn-${req.requestId}`)).toBe(false);
  });
});

describe('GIT_TOKEN over https', () => {
  const token = 'ghp_S3cretT0kenThatMustNeverBeSeen0123';
  const seen: string[] = [];
  let server: Server | undefined;
  let port = 0;
  let caFile = '';

  beforeAll(async () => {
    const dir = join(root, 'tls');
    mkdirSync(dir, { recursive: true });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    caFile = join(dir, 'cert.pem');
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(caFile) }, (req, res) => {
      seen.push(req.headers.authorization ?? '');
      // A smart-HTTP "ERR" packet that echoes the credentials back: git prints it as "remote error: …".
      const echo = `ERR no access for ${req.headers.authorization ?? 'nobody'} (${Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString()})`;
      const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
      res.end(pkt(echo));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('is sent as an Authorization header and never appears in logs, errors or the clone', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const repo = `https://127.0.0.1:${port}/acme/cdn-config.git`;
    const req = request(repo, 'abc1234', 'def5678', { settings: gitSettingsSchema.parse({ repo }) });
    const env = { ...process.env, GIT_TOKEN: token, GIT_SSL_CAINFO: caFile };

    const error = await failure(createRevertBranch(req, { signal: new AbortController().signal, log, env }));

    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    expect(seen).toContain(`Basic ${basic}`);
    expect(error.message).toContain('no access for');
    expect(error.message).toContain('[redacted]');
    const everything = [
      error.toUserText(),
      JSON.stringify(error.details),
      String((error.cause as Error | undefined)?.message),
      ...lines,
    ].join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(basic);
    expect(lines.length).toBeGreaterThan(0);
    // nothing was cloned, so no config file can hold it either
    expect(readdirSync(req.cacheDir).filter((d) => !d.endsWith('.lock'))).toEqual([]);
  });

  it('a remote that never answers is given up on after the timeout, with nothing left behind', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => void sockets.push(socket)); // accepts, then says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const repo = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/acme/cdn-config.git`;
    const req = request(repo, 'abc1234', 'def5678', { settings: gitSettingsSchema.parse({ repo }) });
    try {
      const started = Date.now();
      const error = await failure(
        createRevertBranch(req, { ...ctx(), env: { ...process.env, GIT_TOKEN: token }, timeouts: { networkMs: 400 } }),
      );
      expect(error.code).toBe('PROVIDER_TIMEOUT');
      expect(error.message).toBe('git clone got no answer for too long and was stopped. Nothing was pushed.');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(readdirSync(req.cacheDir).filter((d) => !d.endsWith('.lock'))).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
