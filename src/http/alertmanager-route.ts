import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlertProposals } from '../core/alert-proposals.js';
import type { AlertOutcome } from '../core/alerts.js';
import { isRollbackError, toRollbackError } from '../core/errors.js';
import type { Logger } from '../log.js';
import { alertmanagerPayloadSchema, alertsOf, payloadProblems } from './alertmanager-payload.js';

/** Alertmanager's payloads are small (max_alerts bounds them); anything bigger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export const ALERTMANAGER_PATH = '/v1/alerts/alertmanager';

type Send = (res: ServerResponse, status: number, body: unknown) => void;

/**
 * `POST /v1/alerts/alertmanager` (the bearer token is checked before this runs): Alertmanager's webhook. 200 with
 * what was done per alert; 400 with the reason for a body that is not a version 4 payload; 503 when Redis or a
 * provider did not answer, so that Alertmanager sends it again (it retries 5xx, not 4xx).
 */
export function alertmanagerHandler(proposals: Pick<AlertProposals, 'receive'>, log: Logger, send: Send) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Alertmanager sends alerts with POST.' } });
      return;
    }
    const body = await readBody(req);
    if (body === 'too-large') {
      send(res, 413, { error: { code: 'PAYLOAD_INVALID', message: 'The body is over 1 MiB: set max_alerts.' } });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      send(res, 400, { error: { code: 'PAYLOAD_INVALID', message: 'The body is not JSON.' } });
      return;
    }
    const parsed = alertmanagerPayloadSchema.safeParse(json);
    if (!parsed.success) {
      const reason = payloadProblems(parsed.error);
      log.info({ reason }, 'alertmanager webhook: payload refused');
      send(res, 400, {
        error: { code: 'PAYLOAD_INVALID', message: `Not an Alertmanager webhook payload (version 4): ${reason}` },
      });
      return;
    }
    let outcomes: AlertOutcome[];
    try {
      outcomes = await proposals.receive(alertsOf(parsed.data));
    } catch (error) {
      if (!isRollbackError(error)) throw error;
      const coded = toRollbackError(error);
      log.warn({ err: error }, 'alertmanager webhook: could not handle the alerts');
      send(res, 503, { error: { code: coded.code, message: coded.toUserText() } });
      return;
    }
    log.info({ outcomes: outcomes.map((o) => `${o.alertname}: ${o.result}`) }, 'alertmanager webhook handled');
    // Some could not be handled yet (a proposal being made elsewhere, a provider that did not answer): ask again.
    const retry = outcomes.some((o) => o.result === 'retry');
    send(res, retry ? 503 : 200, { alerts: outcomes });
  };
}

function readBody(req: IncomingMessage): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Read to the end even when too large, so the answer reaches the sender.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
