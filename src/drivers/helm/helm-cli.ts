import { spawn } from 'node:child_process';
import { RollbackError } from '../../core/errors.js';
import type { ProviderCall } from '../../core/ports/driver.js';
import { explainHelmFailure, type HelmRecovery } from './helm-failure.js';

export interface HelmCliOptions {
  /** The helm binary (HELM_BIN); never a shell command line. */
  bin: string;
  context?: string | undefined;
  /** Passed as KUBECONFIG; unset: helm's own default. */
  kubeconfig?: string | undefined;
  signal: AbortSignal;
  /** Every line helm prints, as it prints it. */
  onLine?: (line: string) => void;
  /** helm is stopped after this long; unset: only the signal stops it. */
  limitMs?: number | undefined;
  /** After a failed `helm rollback`, how to read what it did (helm-failure.ts); helm is never run twice. */
  recovery?: HelmRecovery | undefined;
  /** Told how each helm run ended (the bot's metrics): its exit code, or none when it was stopped. */
  observeCall?: ((call: ProviderCall) => void) | undefined;
}

/**
 * helm bounds only its --wait by --timeout: a request the API server never answers holds it for ever
 * (seen with helm 4.1). It gets this long on top of --timeout, then it is stopped.
 */
const HELM_GRACE_MS = 20_000;

const SAFE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * `helm rollback <release> <revision> --namespace <ns> --wait --timeout <t>`, run without a shell,
 * every argument checked again here so that nothing from a chat message can become a flag or a command.
 */
export async function helmRollback(
  args: { release: string; revision: number; namespace: string; timeoutMs: number },
  options: HelmCliOptions,
): Promise<string> {
  if (
    !SAFE_NAME.test(args.release) ||
    !SAFE_NAME.test(args.namespace) ||
    !Number.isInteger(args.revision) ||
    args.revision < 1
  ) {
    throw new RollbackError(
      'CONFIG_INVALID',
      `Refusing to run helm with release "${args.release}", namespace "${args.namespace}", revision ${args.revision}: not valid Kubernetes names and a revision number.`,
    );
  }
  const argv = [
    'rollback',
    args.release,
    String(args.revision),
    '--namespace',
    args.namespace,
    '--wait',
    '--timeout',
    `${Math.max(1, Math.round(args.timeoutMs / 1000))}s`,
  ];
  if (options.context) argv.push('--kube-context', options.context);
  try {
    return await runHelm(argv, { ...options, limitMs: options.limitMs ?? args.timeoutMs + HELM_GRACE_MS });
  } catch (error) {
    if (!options.recovery || options.signal.aborted) throw error;
    throw await explainHelmFailure(error, args, options.recovery);
  }
}

export function runHelm(argv: string[], options: HelmCliOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = options.kubeconfig ? { ...process.env, KUBECONFIG: options.kubeconfig } : process.env;
    const limit = options.limitMs === undefined ? undefined : AbortSignal.timeout(options.limitMs);
    const signal = limit ? AbortSignal.any([options.signal, limit]) : options.signal;
    const child = spawn(options.bin, argv, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], signal, env });
    const lines: string[] = [];
    const collect = (chunk: Buffer, buffer: { rest: string }) => {
      const text = buffer.rest + chunk.toString('utf8');
      const parts = text.split('\n');
      buffer.rest = parts.pop() ?? '';
      for (const line of parts.map((l) => l.trimEnd()).filter(Boolean)) {
        lines.push(line);
        options.onLine?.(line);
      }
    };
    const out = { rest: '' };
    const err = { rest: '' };
    child.stdout.on('data', (chunk: Buffer) => collect(chunk, out));
    child.stderr.on('data', (chunk: Buffer) => collect(chunk, err));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          new RollbackError('CONFIG_INVALID', `helm was not found (HELM_BIN=${options.bin}).`, {
            hint: 'Install helm 3 on the worker, or set HELM_BIN to its path.',
          }),
        );
      } else if (options.signal.aborted) {
        reject(
          new RollbackError(
            'PROVIDER_TIMEOUT',
            'helm was stopped: the rollback ran out of time or the worker is stopping.',
            { cause: error },
          ),
        );
      } else if (limit?.aborted) {
        const said = lines.slice(-3).join(' / ');
        reject(
          new RollbackError(
            'PROVIDER_TIMEOUT',
            `helm ${argv[0]} did not finish within ${Math.round((options.limitMs ?? 0) / 1000)} s (its --timeout and ${HELM_GRACE_MS / 1000} s more), so it was stopped${said ? `; its last words: ${said}` : ''}.`,
            {
              hint: 'The Kubernetes API server may not be answering (`kubectl get --raw /readyz`).',
              cause: error,
            },
          ),
        );
      } else {
        reject(new RollbackError('PROVIDER_UNAVAILABLE', `helm could not run: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code) => {
      options.observeCall?.(
        code === null ? { provider: 'helm', noAnswer: true } : { provider: 'helm', exitCode: code },
      );
      for (const rest of [out.rest, err.rest].map((r) => r.trim()).filter(Boolean)) {
        lines.push(rest);
        options.onLine?.(rest);
      }
      if (code === 0) resolve(lines.join('\n'));
      else if (!signal.aborted) {
        reject(
          new RollbackError(
            'PROVIDER_REJECTED',
            `helm ${argv[0]} exited with code ${code}: ${lines.slice(-3).join(' / ') || 'no output'}`,
            {
              hint: "Read helm's words above; `helm history` shows what the release is on now.",
            },
          ),
        );
      }
    });
  });
}
