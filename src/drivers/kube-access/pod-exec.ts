import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import { RollbackError } from '../../core/errors.js';
import type { DriverContext, FollowUpResult } from '../../core/ports/driver.js';
import type { KubeApi } from './kube-api.js';

const MAX_OUTPUT = 3_000;

function collector(into: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      into.push(chunk.toString('utf8'));
      callback();
    },
  });
}

/** The exit code a finished exec reports: 0 on Success, else the ExitCode cause (1 when it is missing). */
function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
  return Number.isInteger(code) ? code : 1;
}

/**
 * Runs a command in the first running pod that matches a selector, through the Exec API (what
 * `kubectl exec` does), and returns its output and exit code. The command comes from rollback.yml only.
 */
export async function execInPod(
  api: KubeApi,
  spec: { namespace: string; podSelector: string; container: string; command: string[]; timeoutMs: number },
  ctx: DriverContext,
): Promise<FollowUpResult & { pod: string; exitCode: number }> {
  const pods = await api.listPods(spec.namespace, spec.podSelector, ctx.signal);
  const pod = pods.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const name = pod?.metadata?.name;
  if (!name) {
    throw new RollbackError(
      'PROVIDER_NOT_FOUND',
      `No running pod matches ${spec.podSelector} in ${spec.namespace}, so the migration cannot be reverted from here.`,
      {
        hint: `Start the migrator (or check \`migration.podSelector\` in rollback.yml), then run it by hand: \`kubectl exec -it <migrator-pod> -n ${spec.namespace} -- ${spec.command.join(' ')}\`.`,
      },
    );
  }
  const out: string[] = [];
  const status = await new Promise<V1Status>((resolve, reject) => {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(spec.timeoutMs)]);
    let socket: { close(): void } | undefined;
    const onAbort = () => {
      socket?.close();
      reject(
        new RollbackError(
          'PROVIDER_TIMEOUT',
          `${spec.command.join(' ')} in ${name} did not finish within ${Math.round(spec.timeoutMs / 1000)} s; it may still be running.`,
        ),
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    new Exec(api.kubeConfig)
      .exec(spec.namespace, name, spec.container, spec.command, collector(out), collector(out), null, false, (s) => {
        signal.removeEventListener('abort', onAbort);
        resolve(s);
      })
      .then((ws) => {
        socket = ws;
      }, reject);
  });
  const exitCode = exitCodeOf(status);
  let output = out.join('').trim();
  if (output.length > MAX_OUTPUT) output = `…${output.slice(-MAX_OUTPUT)}`;
  return { ok: exitCode === 0, output, exitCode, pod: name, detail: `exit code ${exitCode} in pod ${name}` };
}
