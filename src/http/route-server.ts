import { createServer, type Server } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import { RollbackError } from '../core/errors.js';

/**
 * A worker has no Slack receiver, yet it must answer its probes and Prometheus on PORT: this serves fixed-path
 * routes (health and metrics) on a plain HTTP server of its own.
 */
export async function serveRoutes(
  routes: CustomRoute[],
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const byPath = new Map(routes.map((route) => [route.path, route]));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = byPath.get(path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({ error: { code: 'NOT_FOUND', message: 'A worker serves /healthz, /readyz and /metrics.' } }),
      );
      return;
    }
    route.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new RollbackError(
          'CONFIG_INVALID',
          `The worker cannot listen on PORT ${port}: ${error.code ?? error.message}.`,
          {
            hint: 'Set PORT to a free port (0 picks one); the worker serves /healthz, /readyz and /metrics there.',
            cause: error,
          },
        ),
      ),
    );
    server.listen(port, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
