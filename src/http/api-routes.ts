import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { AlertProposals } from '../core/alert-proposals.js';
import type { DeployGate } from '../core/deploy-gate.js';
import { isRollbackError, type RollbackError, toRollbackError } from '../core/errors.js';
import { gateAnswerFields } from '../core/gate-answer.js';
import type { Logger } from '../log.js';
import { ALERTMANAGER_PATH, alertmanagerHandler } from './alertmanager-route.js';
import { bearerMatches } from './bearer-token.js';
import { jsonText } from './render-text.js';

export interface ApiSettings {
  /** API_TOKEN: unset, every /v1/ route answers 404 saying how to turn the API on. */
  token: string | undefined;
}

const GATE_PATH = '/v1/targets/:target/gate';

type Request = IncomingMessage & { params?: Record<string, string | string[]> };

/**
 * The HTTP API, served by the Slack receiver's own server on PORT (HTTP mode and Socket Mode alike):
 * `GET /v1/targets/<target>/gate?commit=<sha>` with `Authorization: Bearer <API_TOKEN>` answers 200 (deployable)
 * or 423 (frozen); 401 without the token, 404 for an unknown target or commit. With `alerts`,
 * `POST /v1/alerts/alertmanager` takes Alertmanager's webhook (alertmanager-route.ts).
 */
export function apiRoutes(
  settings: ApiSettings,
  deployGate: Pick<DeployGate, 'gate'>,
  log: Logger,
  alerts?: Pick<AlertProposals, 'receive'>,
): CustomRoute[] {
  const { token } = settings;
  const guarded =
    (handler: (req: Request, res: ServerResponse) => Promise<void>) => (req: Request, res: ServerResponse) => {
      if (!token) {
        send(res, 404, {
          error: {
            code: 'API_DISABLED',
            message:
              "The HTTP API is off. Set API_TOKEN in the bot's environment (a long random secret, e.g. `openssl rand -hex 32`) and restart it; pipelines then send `Authorization: Bearer <API_TOKEN>`.",
          },
        });
        return;
      }
      if (!bearerMatches(req, token)) {
        res.setHeader('www-authenticate', 'Bearer realm="rapid-rollback"');
        send(res, 401, {
          error: {
            code: 'UNAUTHORIZED',
            message: "Send the API token as `Authorization: Bearer <API_TOKEN>` (the bot's API_TOKEN setting).",
          },
        });
        return;
      }
      handler(req, res).catch((error: unknown) => {
        log.error({ err: error, path: req.url }, 'HTTP API request failed');
        if (!res.headersSent)
          send(res, 500, {
            error: { code: 'UNEXPECTED', message: 'The bot hit an error it did not expect; its log has the details.' },
          });
      });
    };

  const gate = guarded(async (req, res) => {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Ask the gate with GET.' } });
      return;
    }
    const target = String(req.params?.target ?? '');
    const commits = new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('commit');
    if (commits.length > 1) {
      send(res, 404, {
        target,
        deployable: false,
        error: { code: 'COMMIT_UNKNOWN', message: 'Give one commit: `?commit=<sha>` once.' },
      });
      return;
    }
    const commit = commits[0];
    try {
      const answer = await deployGate.gate(target, commit);
      log.info({ target, commit, deployable: answer.deployable }, 'deploy gate asked');
      send(res, answer.deployable ? 200 : 423, gateAnswerFields(answer, commit, jsonText));
    } catch (error) {
      const coded = toRollbackError(error);
      if (!isRollbackError(error)) throw error;
      log.info({ target, commit, code: coded.code }, 'deploy gate could not answer');
      send(res, statusFor(coded), { target, deployable: false, error: errorBody(coded) });
    }
  });

  return [
    { path: GATE_PATH, method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], handler: gate },
    ...(alerts
      ? [
          {
            path: ALERTMANAGER_PATH,
            method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
            handler: guarded(alertmanagerHandler(alerts, log, send)),
          },
        ]
      : []),
    {
      path: '/v1/*rest',
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      handler: guarded(async (_req, res) => {
        send(res, 404, {
          error: {
            code: 'NOT_FOUND',
            message: `No such route. The API has GET /v1/targets/<target>/gate?commit=<sha>${alerts ? ` and POST ${ALERTMANAGER_PATH}` : ''}.`,
          },
        });
      }),
    },
  ];
}

function errorBody(error: RollbackError): Record<string, unknown> {
  return {
    code: error.code,
    message: jsonText(error.text),
    ...(error.hintText ? { hint: jsonText(error.hintText) } : {}),
  };
}

/** Redis or git not answering: asking again later may work. */
const OUTAGES = ['QUEUE_UNAVAILABLE', 'GIT_FAILED', 'PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT'];

/**
 * Unknown target or commit: 404. Redis or git not answering: 503 (try again). The bot's own set-up wrong (a git
 * remote it may not read): 500, with what to fix. The body always says `deployable: false`.
 */
function statusFor(error: RollbackError): number {
  if (error.code === 'TARGET_UNKNOWN' || error.code === 'COMMIT_UNKNOWN') return 404;
  return OUTAGES.includes(error.code) ? 503 : 500;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(status === 503 ? { 'retry-after': '10' } : {}),
  });
  res.end(json);
}
