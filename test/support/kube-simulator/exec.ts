/**
 * The Exec API over WebSocket (`pods/<name>/exec`), as @kubernetes/client-node and kubectl ≥ 1.30 speak
 * it: the `v5.channel.k8s.io` / `v4.channel.k8s.io` subprotocols, one channel byte in front of each
 * binary message (1 stdout, 2 stderr, 3 the final metav1.Status). A non-zero exit is a Failure status
 * with reason NonZeroExitCode and an ExitCode cause, which is how clients learn the exit code.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ObjectStore } from './object-store.js';
import { acceptWebSocket } from './websocket.js';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export interface ExecResult {
  stdout: string;
  stderr?: string;
  exitCode: number;
}

export type ExecHandler = (req: ExecRequest) => ExecResult | Promise<ExecResult>;

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;

/** The final message on channel 3: Success, or the kubelet's CodeExitError as a Failure status. */
function execStatus(exitCode: number, command: string[], stderr = ''): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command '${command.join(' ')}' exited with ${exitCode}: ${stderr}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/**
 * Runs an exec over an upgraded connection. Errors the API server reports before the stream (no such
 * pod, no such container) come back as an HTTP status instead, as the real server does.
 */
export async function serveExec(
  store: ObjectStore,
  handler: ExecHandler | undefined,
  req: IncomingMessage,
  socket: Duplex,
  target: { namespace: string; pod: string },
  query: URLSearchParams,
): Promise<number> {
  const pod = store.get('pods', target.namespace, target.pod);
  const fail = (code: number, reason: string, message: string): number => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    });
    socket.end(
      `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return code;
  };
  if (!pod) return fail(404, 'NotFound', `pods "${target.pod}" not found`);
  const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  const container = query.get('container') || containers[0] || '';
  if (!containers.includes(container)) {
    return fail(400, 'BadRequest', `container ${container} is not valid for pod ${target.pod}`);
  }
  if (pod.status?.phase !== 'Running') {
    return fail(400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`);
  }
  const command = query.getAll('command');
  const ws = acceptWebSocket(req, socket, PROTOCOLS);
  if (!ws) return 400;
  const frame = (channel: number, text: string): Buffer =>
    Buffer.concat([Buffer.from([channel]), Buffer.from(text, 'utf8')]);
  try {
    const result = handler
      ? await handler({ namespace: target.namespace, pod: target.pod, container, command })
      : { stdout: '', stderr: `kube-simulator: no exec handler registered for ${command.join(' ')}\n`, exitCode: 126 };
    if (result.stdout && query.get('stdout') !== 'false') ws.send(frame(STDOUT, result.stdout));
    if (result.stderr && query.get('stderr') !== 'false') ws.send(frame(STDERR, result.stderr));
    ws.send(frame(ERROR, JSON.stringify(execStatus(result.exitCode, command, result.stderr ?? ''))));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ws.send(frame(ERROR, JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError' })));
  }
  ws.close(1000);
  return 101;
}
