import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { isRollbackError, toRollbackError } from '../../core/errors.js';
import type { RollbackService } from '../../core/rollback-service.js';
import type { Logger } from '../../log.js';
import { mention, renderText } from '../render-text.js';
import { escapeForSlack } from '../slack-text.js';
import { GITOPS_RESUME_ACTION } from '../thread-notes.js';

/**
 * "Resume …" under a lifted freeze: an approver puts back what the rollback suspended of a GitOps controller.
 * Core checks the clicker and that it happens once (and says so in the thread); here the offer is rewritten as
 * done, or the clicker alone hears why not.
 */
export function registerGitOpsActions(app: App, service: RollbackService, log: Logger): void {
  app.action<BlockAction<ButtonAction>>(GITOPS_RESUME_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const requestId = action.value ?? '';
    const user = body.user.id;
    const clickLog = log.child({ requestId, user });
    try {
      const detail = await service.freezes.resumeGitOps(requestId, user);
      const channel = body.channel?.id ?? body.container?.channel_id;
      const ts = body.message?.ts ?? body.container?.message_ts;
      const text = `▶️ Resumed by ${mention(user)}: ${escapeForSlack(detail)}`;
      if (channel && ts)
        await client.chat
          .update({ channel, ts, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] })
          .catch((err: unknown) => clickLog.warn({ err }, 'could not update the resume offer'));
    } catch (error) {
      const coded = toRollbackError(error);
      if (!isRollbackError(error)) clickLog.error({ err: error }, 'resume failed');
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `❌ ${renderText(coded.userText())}`,
      }).catch((err: unknown) => clickLog.warn({ err }, 'could not answer the clicker'));
    }
  });
}
