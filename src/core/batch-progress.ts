import { type BatchReporter, type BatchStore, batchOutcome } from './batch.js';
import type { BatchRef, RequestStore } from './request.js';
import type { ProgressReporter } from './run-rollback.js';
import { text } from './text.js';

/**
 * Called once a member's run ended and its thread has its last line: counts it, and the last member of the
 * batch to end sums the batch up (exactly once, however often a run reports). Never throws.
 */
export async function noteMemberEnded(
  member: { requestId: string; batch?: BatchRef | undefined },
  deps: {
    store: RequestStore;
    batches: BatchStore;
    reporter: BatchReporter;
    log: { warn(o: object, m: string): void };
  },
): Promise<void> {
  const { batch } = member;
  if (!batch) return;
  try {
    const count = await deps.batches.memberEnded(batch.id, member.requestId);
    if (!count.first || count.ended < count.size) return;
    const stored = await deps.batches.getBatch(batch.id);
    if (!stored) return;
    const members = await Promise.all(stored.members.map((id) => deps.store.get(id)));
    const outcome = batchOutcome(
      batch,
      members.filter((m) => m !== undefined),
    );
    const thread = await deps.store.thread(member.requestId);
    await deps.reporter.ended(outcome, thread ?? undefined);
  } catch (err) {
    deps.log.warn({ err, batch: batch.id }, 'could not sum up the multi-target rollback');
  }
}

/** A member's steps in the batch's one thread, each labelled with its target. */
export function labelSteps(reporter: ProgressReporter, target: string): ProgressReporter {
  const announced = reporter.announced?.bind(reporter);
  return {
    report: (step) =>
      reporter.report({
        ...step,
        text: typeof step.text === 'string' ? `${target}: ${step.text}` : text`${target}: ${step.text}`,
      }),
    finish: (result) => reporter.finish(result),
    flush: () => reporter.flush(),
    ...(announced ? { announced } : {}),
  };
}
