import { spawn } from 'node:child_process';
import { RollbackError } from '../../core/errors.js';

export interface HelmCliOptions {
  /** The helm binary (HELM_BIN); never a shell command line. */
  bin: string;
  context?: string | undefined;
  /** Passed as KUBECONFIG; unset: helm's own default. */
  kubeconfig?: string | undefined;
  signal: AbortSignal;
  /** Every line helm prints, as it prints it. */
  onLine?: (line: string) => void;
}

const SAFE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * `helm rollback <release> <revision> --namespace <ns> --wait --timeout <t>`, run without a shell,
 * every argument checked again here so that nothing from a chat message can become a flag or a command.
 */
export async function helmRollback(
  args: { release: string; revision: number; namespace: string; timeoutMs: number },
  options: HelmCliOptions,
): Promise<string> {
  if (!SAFE_NAME.test(args.release) || !SAFE_NAME.test(args.namespace) || !Number.isInteger(args.revision) || args.revision < 1) {
    throw new RollbackError('CONFIG_INVALID', `Refusing to run helm with release "${args.release}", namespace "${args.namespace}", revision ${args.revision}: not valid Kubernetes names and a revision number.`);
  }
  const argv = ['rollback', args.release, String(args.revision), '--namespace', args.namespace, '--wait', '--timeout', `${Math.max(1, Math.round(args.timeoutMs / 1000))}s`];
  if (options.context) argv.push('--kube-context', options.context);
  return runHelm(argv, options);
}

export function runHelm(argv: string[], options: HelmCliOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = options.kubeconfig ? { ...process.env, KUBECONFIG: options.kubeconfig } : process.env;
    const child = spawn(options.bin, argv, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, env });
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
        reject(new RollbackError('CONFIG_INVALID', `helm was not found (HELM_BIN=${options.bin}).`, { hint: 'Install helm 3 on the worker, or set HELM_BIN to its path.' }));
      } else if (options.signal.aborted) {
        reject(new RollbackError('PROVIDER_TIMEOUT', 'helm was stopped: the rollback ran out of time or the worker is stopping.', { cause: error }));
      } else {
        reject(new RollbackError('PROVIDER_UNAVAILABLE', `helm could not run: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code) => {
      for (const rest of [out.rest, err.rest].map((r) => r.trim()).filter(Boolean)) {
        lines.push(rest);
        options.onLine?.(rest);
      }
      if (code === 0) resolve(lines.join('\n'));
      else if (!options.signal.aborted) {
        reject(new RollbackError('PROVIDER_REJECTED', `helm ${argv[0]} exited with code ${code}: ${lines.slice(-3).join(' / ') || 'no output'}`, {
          hint: 'Read helm\'s words above; `helm history` shows what the release is on now.',
        }));
      }
    });
  });
}
