import { createHmac, randomBytes } from 'node:crypto';

/**
 * Request bodies as Slack sends them to the app's Request URL, and the v0 request signature.
 * Bolt's HTTPReceiver verifies the signature over the raw body, and parses the body as a form only
 * when content-type is exactly `application/x-www-form-urlencoded` (no charset), so both must match
 * byte for byte what Slack sends.
 */

const TEAM_DOMAIN = 'sim';
const API_APP_ID = 'A0SIM';
// Slack still sends the deprecated verification token; Bolt ignores it in favour of the signature.
const VERIFICATION_TOKEN = 'sim-verification-token';

export interface SlashCommandParams {
  text: string;
  /** default 'UREQ' */
  userId?: string;
  userName?: string;
  /** default 'CCMD' */
  channelId?: string;
  channelName?: string;
  responseUrl: string;
  /** default 'T0SIM' */
  teamId?: string;
  /** default '/rollback' */
  command?: string;
  triggerId?: string;
}

/** The form body of a slash command invocation, fields in the order Slack sends them. */
export function slashCommand(p: SlashCommandParams): string {
  const userId = p.userId ?? 'UREQ';
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: p.teamId ?? 'T0SIM',
    team_domain: TEAM_DOMAIN,
    channel_id: p.channelId ?? 'CCMD',
    channel_name: p.channelName ?? 'incidents',
    user_id: userId,
    user_name: p.userName ?? userId.toLowerCase(),
    command: p.command ?? '/rollback',
    text: p.text,
    api_app_id: API_APP_ID,
    is_enterprise_install: 'false',
    response_url: p.responseUrl,
    trigger_id: p.triggerId ?? triggerId(),
  }).toString();
}

export interface BlockActionParams {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  messageTs: string;
  responseUrl: string;
  /** default 'T0SIM' */
  teamId?: string;
  blockId?: string;
  /** the message that carried the button, as Slack echoes it back; a minimal bot message by default */
  message?: Record<string, unknown>;
  userName?: string;
  channelName?: string;
  /** the button's label */
  buttonText?: string;
  /** the click's trigger_id (SlackSimulator.newTriggerId, for views.open); a fresh random one by default */
  triggerId?: string;
}

/** The form body (`payload=<json>`) of a button click in a message. */
export function blockAction(p: BlockActionParams): string {
  const teamId = p.teamId ?? 'T0SIM';
  const userName = p.userName ?? p.userId.toLowerCase();
  const blockId = p.blockId ?? 'actions';
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  const payload = {
    type: 'block_actions',
    user: { id: p.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: API_APP_ID,
    token: VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: p.messageTs, channel_id: p.channelId, is_ephemeral: false },
    trigger_id: p.triggerId ?? triggerId(),
    team: { id: teamId, domain: TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: p.channelId, name: p.channelName ?? 'incidents' },
    message: p.message ?? { type: 'message', user: 'UBOT', bot_id: 'B0SIM', ts: p.messageTs, text: '' },
    state: { values: {} },
    response_url: p.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: p.actionId,
        block_id: blockId,
        text: { type: 'plain_text', text: p.buttonText ?? p.actionId, emoji: true },
        value: p.value,
        action_ts: actionTs,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface ViewSubmissionParams {
  userId: string;
  /** the modal as Slack holds it (views.open's answer): id, callback_id, private_metadata, blocks… */
  view: Record<string, unknown>;
  /** what the person typed: block_id → action_id → value (plain-text inputs) */
  values: Record<string, Record<string, string>>;
  /** default 'T0SIM' */
  teamId?: string;
  userName?: string;
}

/** The form body (`payload=<json>`) of a modal's submission: the view with its state, from the person who submitted. */
export function viewSubmission(p: ViewSubmissionParams): string {
  const teamId = p.teamId ?? 'T0SIM';
  const userName = p.userName ?? p.userId.toLowerCase();
  const values = Object.fromEntries(
    Object.entries(p.values).map(([blockId, actions]) => [
      blockId,
      Object.fromEntries(
        Object.entries(actions).map(([actionId, value]) => [actionId, { type: 'plain_text_input', value }]),
      ),
    ]),
  );
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: TEAM_DOMAIN },
    user: { id: p.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: API_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: triggerId(),
    view: { ...p.view, state: { values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface SignedHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
  'content-type': 'application/x-www-form-urlencoded';
}

/** Slack's v0 signature: HMAC-SHA256 over `v0:<timestamp>:<raw body>`, hex, prefixed `v0=`. */
export function signRequest(body: string, signingSecret: string, timestampSeconds = nowSeconds()): SignedHeaders {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return {
    'x-slack-signature': `v0=${digest}`,
    'x-slack-request-timestamp': String(timestampSeconds),
    'content-type': 'application/x-www-form-urlencoded',
  };
}

export interface SendOptions {
  signingSecret: string;
  timestampSeconds?: number;
  /** sign with a different secret, as an attacker without ours would */
  forgeSignature?: boolean;
  /** adds x-slack-retry-num / x-slack-retry-reason, as Slack does when it re-sends an unacknowledged request */
  retryNum?: number;
  /** default 'http_timeout' */
  retryReason?: string;
  /** default 10 000 */
  timeoutMs?: number;
}

export interface AppResponse {
  status: number;
  body: string;
  json?: unknown;
  ms: number;
}

/** POSTs a signed body to the app's Request URL, e.g. `http://127.0.0.1:PORT/slack/events`. */
export async function sendToApp(url: string, body: string, options: SendOptions): Promise<AppResponse> {
  const secret = options.forgeSignature ? `forged-${options.signingSecret}` : options.signingSecret;
  const headers: Record<string, string> = { ...signRequest(body, secret, options.timestampSeconds) };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  const result: AppResponse = { status: res.status, body: text, ms };
  if (text !== '') {
    try {
      result.json = JSON.parse(text);
    } catch {
      // ack('some text') answers with plain text; body still has it
    }
  }
  return result;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function triggerId(): string {
  const n = () => String(Math.floor(Math.random() * 1e10));
  return `${n()}.${n()}.${randomBytes(16).toString('hex')}`;
}
