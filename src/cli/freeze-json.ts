import type { GateAnswer } from '../core/deploy-gate.js';
import type { Freeze, LiftedFreeze } from '../core/freeze.js';
import type { FrozenTarget } from '../core/freeze-service.js';
import { gateAnswerFields } from '../core/gate-answer.js';
import { terminalText } from './render-text.js';

/**
 * Freezes in the --json documents: times as ISO, core's words as plain text (commands as the CLI's own), the
 * freeze named by `request` as the HTTP API names it.
 */

function freezeJson(freeze: Freeze): Record<string, unknown> {
  return {
    request: freeze.id,
    cause: freeze.cause,
    since: new Date(freeze.since).toISOString(),
    by: freeze.by,
    reason: freeze.reason,
    from: freeze.from?.label,
    restored: freeze.restored?.label,
    revert: freeze.revert,
  };
}

/** A frozen target in `status --json`. */
export function frozenJson({ freeze, lift }: FrozenTarget): Record<string, unknown> {
  return { ...freezeJson(freeze), lift: terminalText(lift) };
}

/** An ended freeze in `history --json`. */
export function liftedJson(freeze: LiftedFreeze): Record<string, unknown> {
  const { lifted } = freeze;
  return {
    target: freeze.target,
    ...freezeJson(freeze),
    lifted: {
      at: new Date(lifted.at).toISOString(),
      by: lifted.by,
      how: lifted.how,
      why: terminalText(lifted.why),
      request: lifted.requestId,
      requester: lifted.requester,
    },
  };
}

/** `gate --json`: the fields of the HTTP API's answer (200 or 423), so a pipeline reads either the same way. */
export function gateJson(answer: GateAnswer, commit: string | undefined): Record<string, unknown> {
  return gateAnswerFields(answer, commit, terminalText);
}
