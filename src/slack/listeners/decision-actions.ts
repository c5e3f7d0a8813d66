import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import { renderIncidentRecord } from '../../core/incident-record.js';
import type { Announcement } from '../../core/ports/notifier.js';
import type { RollbackRequest, ThreadRef } from '../../core/request.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import {
  APPROVE_ACTION,
  approvalRequestMessage,
  approvedDecision,
  CANCEL_ACTION,
  cancelledDecision,
  decidedRequestMessage,
  expiredDecision,
  FOLLOW_UP_ACTION,
  followUpRequestMessage,
  RECORD_ACTION,
} from '../blocks/request-blocks.js';
import { noticeNotifier, threadNotifier } from '../notice-notifier.js';
import { mention, renderText, SLACK } from '../render-text.js';
import { escapeForSlack, fenceSafe } from '../slack-text.js';
import { openBreakGlassModal, registerBreakGlassView } from './break-glass.js';
import { type Click, clickOf, rewriteMessage, tellClicker } from './click.js';

/** Rewrites the request message: by the Web API when the bot posted it, else through the response_url. */
function rewrite(click: Click, request: RollbackRequest, message: { text: string; blocks: unknown[] }, log: Logger) {
  return rewriteMessage(click, request.origin, message, log);
}

export interface DecisionOptions {
  /** After this long without a worker starting an approved rollback, the thread says so. */
  pickupWarningMs?: number;
  /** Resolves when the answers owed to other Slack requests are out (ack-gate.ts); the work after an ack waits for it. */
  afterAcks?: () => Promise<void>;
  /** Runs an approval's work (the approval, the job queued, the notice) in one of a few slots (ack-gate.ts). */
  approvalSlot?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** DecisionOptions with their defaults: a 10 s pickup warning, no waiting for other answers, no slots. */
export function decisionSettings(options: DecisionOptions) {
  return {
    pickupWarningMs: options.pickupWarningMs ?? 10_000,
    afterAcks: options.afterAcks ?? (() => Promise.resolve()),
    slot: options.approvalSlot ?? (<T>(work: () => Promise<T>) => work()),
  };
}

export function registerDecisionActions(
  app: App,
  service: RollbackService,
  log: Logger,
  options: DecisionOptions = {},
): void {
  const { pickupWarningMs, afterAcks, slot } = decisionSettings(options);
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await approve(
      clickOf(body, action, respond, client),
      service,
      log.child({ requestId: action.value }),
      pickupWarningMs,
      slot,
    );
  });
  // A break-glass approval, confirmed in its modal, goes on as an approver's click does.
  registerBreakGlassView(
    app,
    service,
    log,
    (click, request) =>
      approve(click, service, log.child({ requestId: request.id }), pickupWarningMs, slot, async () => request),
    afterAcks,
  );

  app.action<BlockAction<ButtonAction>>(FOLLOW_UP_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await afterAcks();
    const [parentId = '', followUpId = ''] = (action.value ?? '').split('|');
    const click = clickOf(body, action, respond, client);
    try {
      const request = await service.requestFollowUp(parentId, followUpId, click.user, { channel: click.from.channel });
      if (request.state === 'approved') {
        await startFollowUp(click, request, service, log);
        return;
      }
      const thread = request.thread;
      const posted = await client.chat.postMessage({
        channel: thread?.channel ?? click.from.channel,
        ...(thread ? { thread_ts: thread.ts } : {}),
        ...followUpRequestMessage(request, service.approvalFor(request.target)),
      });
      if (posted.ts)
        await service.recordOrigin(request.id, { channel: posted.channel ?? click.from.channel, messageTs: posted.ts });
    } catch (error) {
      await refuse({ ...click, requestId: parentId }, error, service, log);
    }
  });

  app.action<BlockAction<ButtonAction>>(RECORD_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await afterAcks();
    const click = clickOf(body, action, respond, client);
    try {
      const { request, timeline } = await service.queries.incidentRecord(click.requestId);
      const record = renderIncidentRecord(request, timeline, SLACK);
      const threadTs = body.message?.thread_ts ?? body.message?.ts;
      await client.chat.postMessage({
        channel: click.from.channel,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        text: `Incident record for \`${click.requestId}\`, asked by <@${click.user}> (markdown, ready to paste):\n\`\`\`\n${fenceSafe(record)}\n\`\`\``,
        unfurl_links: false,
      });
    } catch (error) {
      await refuse(click, error, service, log);
    }
  });

  app.action<BlockAction<ButtonAction>>(CANCEL_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await afterAcks();
    const click = clickOf(body, action, respond, client);
    try {
      const request = await service.cancel(click.requestId, click.user, click.from);
      await rewrite(click, request, decidedRequestMessage(request, cancelledDecision(request)), log);
    } catch (error) {
      await refuse(click, error, service, log);
    }
  });
}

async function refuse(click: Click, error: unknown, service: RollbackService, log: Logger): Promise<void> {
  const coded = toRollbackError(error);
  if (coded.code === 'BREAK_GLASS_UNCONFIRMED' && (await openBreakGlassModal(click, service, log))) return;
  if (coded.code === 'QUEUE_UNAVAILABLE')
    log.warn({ err: error, requestId: click.requestId }, 'decision: Redis is not answering');
  else if (!isRollbackError(error)) log.error({ err: error, requestId: click.requestId }, 'decision failed');
  await tellClicker(click, `❌ ${renderText(coded.userText())}`, log);
  if (coded.code === 'REQUEST_EXPIRED') {
    const request = await service.find(click.requestId, click.from).catch(() => undefined);
    if (request) await rewrite(click, request, decidedRequestMessage(request, expiredDecision(request)), log);
  }
}

async function approve(
  click: Click,
  service: RollbackService,
  log: Logger,
  pickupWarningMs: number,
  slot: <T>(work: () => Promise<T>) => Promise<T>,
  decide: () => Promise<RollbackRequest> = () => service.approve(click.requestId, click.user, click.from),
): Promise<void> {
  // The approval and the launch take a slot; the message rewrites after them do not.
  type Step =
    | { kind: 'refused'; error: unknown }
    | { kind: 'followUp'; request: RollbackRequest }
    | { kind: 'launchFailed'; request: RollbackRequest; error: unknown }
    | { kind: 'launched'; request: RollbackRequest; announcement: Announcement };
  const step = await slot(async (): Promise<Step> => {
    let request: RollbackRequest;
    try {
      request = await decide();
    } catch (error) {
      return { kind: 'refused', error };
    }
    if (request.followUp) return { kind: 'followUp', request };
    // Core's one lifecycle: the job is queued beside the notice; a job that cannot be queued is undone.
    try {
      const notifier = noticeNotifier(click.client, service.rules.incidentChannel, log);
      return { kind: 'launched', request, announcement: await service.launch(request, notifier) };
    } catch (error) {
      return { kind: 'launchFailed', request, error };
    }
  });
  if (step.kind === 'refused') {
    await refuse(click, step.error, service, log);
    return;
  }
  const { request } = step;
  if (step.kind === 'followUp') {
    await startFollowUp(click, request, service, log);
    return;
  }
  if (step.kind === 'launchFailed') {
    await tellClicker(click, `❌ ${renderText(toRollbackError(step.error).userText())}`, log);
    const reopened = await service.find(request.id).catch(() => undefined);
    if (reopened?.state === 'pending')
      await rewrite(click, reopened, approvalRequestMessage(reopened, service.approvalFor(reopened.target)), log);
    return;
  }
  const { announcement } = step;

  const { thread, problem } = announcement;
  if (thread)
    warnIfNobodyPicksUp(click.client, service, request.id, thread, pickupWarningMs, log, (reopened) =>
      rewrite(click, reopened, approvalRequestMessage(reopened, service.approvalFor(reopened.target)), log),
    );

  let decision = approvedDecision(request, thread?.root === 'notice' ? thread : undefined);
  if (problem) {
    const where = thread
      ? "Progress is in this message's thread."
      : "Progress goes to the bot's log only; `/rollback status` shows how it ends.";
    decision += `\n⚠️ ${renderText(problem.userText())} ${where}`;
  }
  await rewrite(click, request, decidedRequestMessage(request, decision), log);
}

/** A follow-up runs in its rollback's thread; no new notice. */
async function startFollowUp(
  click: Click,
  request: RollbackRequest,
  service: RollbackService,
  log: Logger,
): Promise<void> {
  try {
    await service.launch(request, threadNotifier(click.client, log));
  } catch (error) {
    await tellClicker(click, `❌ ${renderText(toRollbackError(error).userText())}`, log);
    const reopened = await service.find(request.id).catch(() => undefined);
    if (reopened?.state === 'pending')
      await rewrite(click, reopened, followUpRequestMessage(reopened, service.approvalFor(reopened.target)), log);
    return;
  }
  const label = escapeForSlack(request.followUp?.label ?? 'Follow-up');
  const text = `✅ *${label}* for ${request.target}, by ${mention(request.approver)}: running \`${escapeForSlack(request.followUp?.description ?? '')}\`.`;
  if (request.origin.messageTs) {
    await rewrite(
      click,
      request,
      {
        text: `${label} for ${request.target}: approved`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
      },
      log,
    );
  } else {
    await tellClicker(click, text, log);
  }
}

/**
 * While Redis is not answering, the check is made again every afterMs for this long: a Sentinel failover lasts as
 * long as the Sentinels take to agree the master is down (30 s by default), and what Redis has after it (the
 * approval, or not) is what the thread must say.
 */
const RECHECK_FOR_MS = 10 * 60_000;

/** An approved rollback that no worker starts is an outage within the outage: say so where people look. */
export function warnIfNobodyPicksUp(
  client: WebClient,
  service: RollbackService,
  id: string,
  thread: ThreadRef,
  afterMs: number,
  log: Logger,
  offerAgain: (request: RollbackRequest) => Promise<void>,
): void {
  const approvedAt = Date.now();
  let saidUnreachable = false;
  const say = (text: string) => client.chat.postMessage({ channel: thread.channel, thread_ts: thread.ts, text });
  const check = async (): Promise<void> => {
    const after = `${Math.round((Date.now() - approvedAt) / 1000)} s after approval`;
    let request: RollbackRequest;
    try {
      request = await service.find(id);
    } catch (error) {
      // Redis down, or back without its data: the people waiting in this thread must hear it, not a silence.
      if (isRollbackError(error) && error.code === 'QUEUE_UNAVAILABLE') {
        if (Date.now() - approvedAt < RECHECK_FOR_MS) schedule();
        if (saidUnreachable) return;
        saidUnreachable = true;
        await say(
          `⚠️ Redis is not answering ${after}, so I cannot tell whether a worker has started this rollback. A queued rollback runs once Redis and a worker are back; steps appear here when it does. If you cannot wait, roll back by hand with the runbook.`,
        );
      } else if (isRollbackError(error) && error.code === 'REQUEST_UNKNOWN') {
        await say(
          `⚠️ Redis no longer has this rollback request (it restarted without its data?), so no worker will start it; unless steps appear above, nothing was changed. Check what is live with \`/rollback status\`, then request the rollback again, or roll back by hand with the runbook.`,
        );
      } else {
        // Anything else Redis answered mid-failover (an error ioredis words otherwise): try again while the
        // window lasts, rather than leave the thread without its answer.
        log.warn({ err: error, requestId: id }, 'could not read the request to check its pickup; checking again');
        if (Date.now() - approvedAt < RECHECK_FOR_MS) schedule();
      }
      return;
    }
    if (request.state === 'pending') {
      // Approved, and pending again: Redis failed over to a replica the approval had not reached yet.
      await say(
        `⚠️ Redis lost this approval (it failed over, or restarted, before the approval was copied), so no worker will start this rollback; unless steps appear above, nothing was changed. Check what is live with \`/rollback status\`, then approve the request again (its buttons are back), or roll back by hand with the runbook.`,
      );
      await offerAgain(request);
    } else if (request.state === 'approved' && !saidUnreachable) {
      await say(
        `⚠️ No worker has started this rollback ${after}. It is queued and will run as soon as a worker is up: check \`npm run start:worker\` (or the worker containers) and Redis. If you cannot wait, roll back by hand with the runbook.`,
      );
    }
  };
  function schedule(): void {
    const timer = setTimeout(
      () =>
        void check().catch((err: unknown) =>
          log.warn({ err }, 'could not check whether a worker picked the rollback up'),
        ),
      afterMs,
    );
    timer.unref();
  }
  schedule();
}
