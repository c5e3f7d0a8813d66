import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Logger } from '../log.js';
import { bearerMatches } from './bearer-token.js';

/** One thing the bot needs before it can serve: Redis, the worker's queue connection, the Slack token. */
interface ReadinessCheck {
  check: string;
  ready: boolean;
  /** Why not (or what was seen), in words for the operator. */
  detail: string;
}

export interface HealthSettings {
  /** Asked on every GET /readyz; each check bounds its own time. */
  readiness: () => Promise<ReadinessCheck[]>;
  /** GET /metrics: the Prometheus text; METRICS_TOKEN, when set, is required as a bearer token. */
  metrics?: { token: string | undefined; render: () => Promise<{ contentType: string; body: string }> } | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * `GET /healthz` (liveness: the event loop answers), `GET /readyz` (200 when every check passes, else 503 with
 * what is not ready) and `GET /metrics`. Health needs no token: a kubelet probe sends none.
 */
export function healthRoutes(settings: HealthSettings, log: Logger): CustomRoute[] {
  const onlyGet =
    (handler: Handler): Handler =>
    (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET.' } });
        return;
      }
      handler(req, res);
    };
  const healthz = onlyGet((_req, res) => send(res, 200, { status: 'alive' }));
  const readyz = onlyGet((_req, res) => {
    settings.readiness().then(
      (checks) => {
        const notReady = checks.filter((c) => !c.ready).map(({ check, detail }) => ({ check, detail }));
        send(res, notReady.length === 0 ? 200 : 503, { ready: notReady.length === 0, notReady, checks });
      },
      (error: unknown) => {
        log.error({ err: error }, 'readiness could not be checked');
        send(res, 503, { ready: false, notReady: [{ check: 'readiness', detail: 'the checks themselves failed' }] });
      },
    );
  });
  const routes: CustomRoute[] = [
    { path: '/healthz', method: ['GET', 'HEAD', 'POST'], handler: healthz },
    { path: '/readyz', method: ['GET', 'HEAD', 'POST'], handler: readyz },
  ];
  const { metrics } = settings;
  if (metrics) {
    const handler = onlyGet((req, res) => {
      if (metrics.token && !bearerMatches(req, metrics.token)) {
        res.setHeader('www-authenticate', 'Bearer realm="rapid-rollback metrics"');
        send(res, 401, {
          error: {
            code: 'UNAUTHORIZED',
            message:
              'Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization:`).',
          },
        });
        return;
      }
      metrics.render().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(body);
        },
        (error: unknown) => {
          log.error({ err: error }, 'metrics could not be rendered');
          send(res, 500, { error: { code: 'UNEXPECTED', message: 'The metrics could not be rendered; see the log.' } });
        },
      );
    });
    routes.push({ path: '/metrics', method: ['GET', 'HEAD', 'POST'], handler });
  }
  return routes;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
