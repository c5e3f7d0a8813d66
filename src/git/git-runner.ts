import { GitError, GitPluginError, type SimpleGitOptions, simpleGit } from 'simple-git';
import type { Logger } from '../log.js';
import { remoteParts } from './remote.js';

/** How long git may stay silent before it is stopped: local commands, and those that talk to the remote. */
export interface GitTimeouts {
  localMs: number;
  networkMs: number;
}

export const DEFAULT_GIT_TIMEOUTS: GitTimeouts = { localMs: 30_000, networkMs: 120_000 };

/**
 * How long after git exits its output may stay open before what was read is taken as its answer: long
 * enough that a busy worker reads the output first, short enough that a git stopped by its timeout
 * (whose helper may hold the output open) reports soon.
 */
const OUTPUT_GRACE_MS = 1_000;

/**
 * The environment git runs with: only what it needs from the worker's, so that nothing in there (an
 * EDITOR, a GIT_TRACE_CURL that would print headers, a GIT_DIR) changes what git does or prints.
 */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'TZ',
  'SSH_AUTH_SOCK',
  'GIT_SSH_COMMAND',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];

interface GitIdentity {
  author: { name: string; email: string };
  committer: { name: string; email: string };
}

export interface GitRunnerOptions {
  /** The worker's environment: PATH, HOME, SSH agent, GIT_SSH_COMMAND, GIT_TOKEN… */
  env: NodeJS.ProcessEnv;
  repo: string;
  identity: GitIdentity;
  signal: AbortSignal;
  log: Logger;
  timeouts: GitTimeouts;
}

interface GitRunOptions {
  /** Talks to the remote: given the network's patience (timeouts.networkMs) instead of the local one. */
  network?: boolean;
  /** Exit codes that are answers, not failures. */
  okExit?: number[];
  /** Putting the clone in order: runs to the end even when the request's signal is aborted. */
  cleanup?: boolean;
}

interface GitOutput {
  stdout: string;
  exitCode: number;
}

/** git in one directory (a cached clone). */
export type GitIn = (args: string[], opts?: GitRunOptions) => Promise<GitOutput>;

/** Why a git command did not give an answer, in words a person can act on (tokens already removed). */
export class GitCommandError extends Error {
  constructor(
    readonly command: string,
    readonly kind: 'exit' | 'timeout' | 'aborted' | 'missing',
    /** git's own words, progress lines dropped, secrets removed. */
    readonly reason: string,
    readonly exitCode: number | undefined,
    /** Raw stderr, secrets removed, for parsers that need the exact lines (conflicting files). */
    readonly stderr: string,
  ) {
    super(
      kind === 'timeout'
        ? `git ${command} got no answer for too long and was stopped`
        : kind === 'aborted'
          ? `git ${command} was stopped: the request ran out of time or the worker is stopping`
          : kind === 'missing'
            ? 'git is not installed on the worker'
            : `git ${command} failed${reason ? `: ${reason}` : ` with exit code ${exitCode}`}`,
    );
    this.name = 'GitCommandError';
  }
}

/** A GitError, so that simple-git passes it through as it is instead of wrapping it in one. */
class GitExit extends GitError {
  constructor(
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(undefined, `git exited with code ${exitCode}`);
  }
}

/**
 * Runs git without a shell through simple-git, one process per call, each with a rolling timeout and
 * the caller's abort signal. Credentials never appear in arguments, URLs or logs:
 * - ssh: the worker's agent or GIT_SSH_COMMAND (default `ssh -o BatchMode=yes`, so a missing key fails
 *   at once instead of waiting for a passphrase);
 * - https: GIT_TOKEN becomes an `http.<origin>/.extraHeader` Authorization header given to git as
 *   GIT_CONFIG_COUNT/KEY/VALUE, which git reads exactly like `-c` but which, unlike `-c`, is not in the
 *   command line that `ps` shows to every user of the machine. It is scoped to the remote's origin so a
 *   redirect to another host does not receive it.
 */
export class GitRunner {
  private readonly env: NodeJS.ProcessEnv;
  private readonly secrets: string[];

  constructor(private readonly options: GitRunnerOptions) {
    const source = options.env;
    const env: NodeJS.ProcessEnv = {};
    for (const name of PASSED_THROUGH) if (source[name] !== undefined) env[name] = source[name];
    env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes';
    Object.assign(env, {
      LC_ALL: 'C', // git's messages in English, as the conflict and push parsers read them
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'never',
      GIT_AUTHOR_NAME: options.identity.author.name,
      GIT_AUTHOR_EMAIL: options.identity.author.email,
      GIT_COMMITTER_NAME: options.identity.committer.name,
      GIT_COMMITTER_EMAIL: options.identity.committer.email,
    });
    this.secrets = [];
    const token = source.GIT_TOKEN?.trim();
    const remote = remoteParts(options.repo);
    if (token && remote?.protocol === 'https') {
      const user = /(^|\.)gitlab\./.test(remote.host) ? 'oauth2' : 'x-access-token';
      const basic = Buffer.from(`${user}:${token}`).toString('base64');
      const origin = new URL(options.repo).origin;
      Object.assign(env, {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `http.${origin}/.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      });
      this.secrets.push(token, basic);
    }
    this.env = env;
  }

  /** Removes the token (and its encoded header) from any text that may reach a log or a thread. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret) out = out.split(secret).join('[redacted]');
    return out;
  }

  /** `run` bound to one directory: the steps in a cached clone pass only their arguments. */
  in(dir: string): GitIn {
    return (args, opts) => this.run(dir, args, opts);
  }

  /**
   * `git <args>` in `dir`; resolves with stdout when git exits with 0 or with one of `okExit`.
   * `cleanup: true` ignores the caller's abort signal: putting the cached clone back in order must
   * finish even when the request was stopped, or the next attempt starts from a half-made state.
   *
   * SILENT: simple-git waits 50 ms after a git process that printed nothing, so callers keep git's
   * one-line output (no --quiet) and ask reads for something that is always there: a dozen silent calls
   * would add more than half a second to every branch.
   */
  async run(dir: string, args: string[], opts: GitRunOptions = {}): Promise<GitOutput> {
    const command = args[0] ?? '';
    const block = opts.network ? this.options.timeouts.networkMs : this.options.timeouts.localMs;
    const config: Partial<SimpleGitOptions> = {
      baseDir: dir,
      maxConcurrentProcesses: 1,
      // git's answer is read once its output is closed. simple-git's default also settles 50 ms after
      // the process exits, which on a busy worker came before the output was read: an empty answer.
      completion: { onClose: true, onExit: OUTPUT_GRACE_MS },
      timeout: { block },
      unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true },
      errors: (error, result) => {
        if (error instanceof GitPluginError) return error;
        if (result.exitCode !== 0) {
          return new GitExit(
            result.exitCode,
            Buffer.concat(result.stdOut).toString('utf8'),
            Buffer.concat(result.stdErr).toString('utf8'),
          );
        }
        return error;
      },
    };
    if (!opts.cleanup) config.abort = this.options.signal;
    const started = Date.now();
    try {
      const stdout = await simpleGit(config).env(this.env).raw(args);
      this.options.log.debug({ git: command, ms: Date.now() - started }, 'git');
      return { stdout, exitCode: 0 };
    } catch (error) {
      const ms = Date.now() - started;
      if (error instanceof GitExit && opts.okExit?.includes(error.exitCode)) {
        this.options.log.debug({ git: command, ms, exitCode: error.exitCode }, 'git');
        return { stdout: error.stdout, exitCode: error.exitCode };
      }
      const failure = this.toCommandError(command, error, opts.cleanup === true);
      this.options.log.info(
        { git: command, ms, kind: failure.kind, exitCode: failure.exitCode, reason: failure.reason },
        'git failed',
      );
      throw failure;
    }
  }

  private toCommandError(command: string, error: unknown, cleanup: boolean): GitCommandError {
    if (!cleanup && this.options.signal.aborted) return new GitCommandError(command, 'aborted', '', undefined, '');
    if (error instanceof GitPluginError && error.plugin === 'timeout')
      return new GitCommandError(command, 'timeout', '', undefined, '');
    if (error instanceof GitPluginError && error.plugin === 'abort')
      return new GitCommandError(command, 'aborted', '', undefined, '');
    if (error instanceof GitExit) {
      const stderr = this.scrub(error.stderr);
      if (/spawn \S+ ENOENT/.test(stderr)) return new GitCommandError(command, 'missing', '', undefined, stderr);
      return new GitCommandError(
        command,
        'exit',
        reasonFrom(stderr || this.scrub(error.stdout)),
        error.exitCode,
        stderr,
      );
    }
    const text = this.scrub(error instanceof Error ? error.message : String(error));
    if (/ENOENT/.test(text)) return new GitCommandError(command, 'missing', '', undefined, text);
    return new GitCommandError(command, 'exit', reasonFrom(text), undefined, text);
  }
}

const PROGRESS =
  /^(remote: )?(Enumerating|Counting|Compressing|Writing|Total|Delta|Receiving|Resolving|Unpacking|Updating files|Cloning into)\b/;

/** Lines that say nothing about what went wrong: hints, "To <url>", the push summary's last line. */
const NOISE = /^(hint:|remote:$|To \S+$|error: failed to push some refs)/;

/** git's message without progress lines and hints: the last lines that say what went wrong. */
function reasonFrom(output: string): string {
  const lines = output
    .split(/[\r\n]+/)
    .map((line) => line.trim())
    .filter((line) => line && !PROGRESS.test(line) && !NOISE.test(line));
  const text = lines.slice(-8).join(' / ');
  return text.length > 600 ? `…${text.slice(-600)}` : text;
}
