import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { BatchState } from '../../core/batch-service.js';
import { toRollbackError } from '../../core/errors.js';
import type { RequestOrigin, RollbackRequest } from '../../core/request.js';
import type { RollbackService } from '../../core/rollback-service.js';
import { plainText } from '../../core/text.js';
import type { Logger } from '../../log.js';
import {
  BATCH_BREAK_GLASS_VIEW,
  BREAK_GLASS_BLOCK,
  BREAK_GLASS_INPUT,
  BREAK_GLASS_VIEW,
  type BreakGlassMetadata,
  breakGlassModal,
  breakGlassRefusedModal,
} from '../blocks/break-glass-modal.js';
import type { Click } from './click.js';

const metadataSchema = z.object({
  requestId: z.string(),
  channel: z.string(),
  messageTs: z.string().optional(),
}) satisfies z.ZodType<BreakGlassMetadata>;

/**
 * Core asked for a break-glass confirmation (BREAK_GLASS_UNCONFIRMED): the requester's Approve click opens the
 * modal, with the click's trigger_id. False when it could not be opened (no trigger_id, Slack refused): the
 * caller then tells the clicker core's words instead.
 */
export async function openBreakGlassModal(click: Click, service: RollbackService, log: Logger): Promise<boolean> {
  if (!click.triggerId) return false;
  try {
    const request = await service.find(click.requestId, click.from);
    await click.client.views.open({
      trigger_id: click.triggerId,
      view: breakGlassModal(request, service.approvalFor(request.target), click.from),
    });
    return true;
  } catch (err) {
    log.warn({ err, requestId: click.requestId }, 'could not open the break-glass confirmation');
    return false;
  }
}

/**
 * The modal's submission: core approves only with the target's name typed. A wrong name is answered under the
 * input (the modal stays open), another refusal replaces the modal with it; an approval closes the modal and goes
 * on exactly as an approver's click does (`launch`: the job, the notice, the request message rewritten).
 */
export function registerBreakGlassView(
  app: App,
  service: RollbackService,
  log: Logger,
  launch: (click: Click, request: RollbackRequest) => Promise<void>,
  afterAcks: () => Promise<void>,
): void {
  onBreakGlassSubmission(
    app,
    BREAK_GLASS_VIEW,
    log,
    (id, user, from, typed) => service.approve(id, user, from, { breakGlass: { targetName: typed } }),
    launch,
    afterAcks,
  );
}

/** The same for a multi-target request's modal (the requester types the batch's name). */
export function registerBatchBreakGlassView(
  app: App,
  service: RollbackService,
  log: Logger,
  launch: (click: Click, state: BatchState) => Promise<void>,
  afterAcks: () => Promise<void>,
): void {
  onBreakGlassSubmission(
    app,
    BATCH_BREAK_GLASS_VIEW,
    log,
    (id, user, from, typed) => service.batches.approve(id, user, from, { breakGlass: { targetName: typed } }),
    launch,
    afterAcks,
  );
}

function onBreakGlassSubmission<T>(
  app: App,
  callbackId: string,
  log: Logger,
  approve: (id: string, user: string, from: RequestOrigin, typed: string) => Promise<T>,
  launch: (click: Click, approved: T) => Promise<void>,
  afterAcks: () => Promise<void>,
): void {
  app.view(callbackId, async ({ ack, body, view, client }) => {
    const metadata = parseMetadata(view.private_metadata);
    if (!metadata) {
      log.warn({ metadata: view.private_metadata }, 'break-glass submission without its request');
      await ack();
      return;
    }
    const typed = view.state.values[BREAK_GLASS_BLOCK]?.[BREAK_GLASS_INPUT]?.value ?? '';
    const user = body.user.id;
    const from = { channel: metadata.channel, messageTs: metadata.messageTs };
    let approved: T;
    try {
      approved = await approve(metadata.requestId, user, from, typed);
    } catch (error) {
      const coded = toRollbackError(error);
      if (coded.code === 'BREAK_GLASS_UNCONFIRMED')
        await ack({ response_action: 'errors', errors: { [BREAK_GLASS_BLOCK]: plainText(coded.text) } });
      else await ack({ response_action: 'update', view: breakGlassRefusedModal(coded) });
      return;
    }
    await ack();
    await afterAcks();
    const click: Click = {
      requestId: metadata.requestId,
      user,
      from,
      client,
      respond: ephemeralTo(client, from.channel, user, log),
    };
    await launch(click, approved);
  });
}

function parseMetadata(raw: string): BreakGlassMetadata | undefined {
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A modal has no response_url: what only the clicker should see goes as an ephemeral message in the channel. */
function ephemeralTo(client: WebClient, channel: string, user: string, log: Logger): Click['respond'] {
  return async (m) => {
    if (m.replace_original) {
      log.warn({ channel }, 'a request message posted through a response_url cannot be rewritten from a modal');
      return;
    }
    await client.chat.postEphemeral({ channel, user, text: m.text ?? '' });
  };
}
