import type { WebClient } from '@slack/web-api';
import type { ApprovalRules } from '../core/approval.js';
import type { ProposalBoard } from '../core/ports/alert-proposals.js';
import { proposalMessage } from './blocks/proposal-blocks.js';
import { postInChannel } from './post-to-channel.js';

/** Proposals in Slack: posted in the request's channel (the incident channel), rewritten as alerts come. */
export function slackProposalBoard(client: WebClient, approvalFor: (target: string) => ApprovalRules): ProposalBoard {
  return {
    propose: (request, words) =>
      postInChannel(client, {
        channel: request.origin.channel,
        ...proposalMessage(request, approvalFor(request.target), words),
        unfurl_links: false,
      }),
    async update(request, where, words) {
      await client.chat.update({
        channel: where.channel,
        ts: where.ts,
        ...proposalMessage(request, approvalFor(request.target), words),
      });
    },
  };
}
