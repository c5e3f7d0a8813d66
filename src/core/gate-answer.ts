import type { GateAnswer } from './deploy-gate.js';
import type { Text } from './text.js';

/**
 * The deploy gate's answer as the fields a pipeline reads, the same from the HTTP API and `rapid-rollback gate
 * --json`: `target`, `deployable`, `frozen`, `commit`, `reason`, `request`, `since` (ISO) and `lift` when refused.
 * Words go through the front end's `render`.
 */
export function gateAnswerFields(
  answer: GateAnswer,
  commit: string | undefined,
  render: (words: Text) => string,
): Record<string, unknown> {
  const asked = commit === undefined ? {} : { commit };
  if (!answer.freeze) return { target: answer.target, deployable: true, frozen: false, ...asked };
  const freeze = { request: answer.freeze.id, since: new Date(answer.freeze.since).toISOString() };
  if (answer.deployable)
    return {
      target: answer.target,
      deployable: true,
      frozen: true,
      ...asked,
      reason: render(answer.because),
      ...freeze,
    };
  return {
    target: answer.target,
    deployable: false,
    frozen: true,
    ...asked,
    reason: render(answer.reason),
    ...freeze,
    lift: render(answer.lift),
  };
}
