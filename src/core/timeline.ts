import type { Text } from './text.js';
import type { VerifyCheck } from './types.js';

/** One line of a request's durable record, in the order things happened. */
export interface TimelineEvent {
  at: number;
  kind:
    | 'requested'
    | 'approved'
    | 'cancelled'
    | 'expired'
    | 'queued'
    | 'started'
    | 'step'
    | 'finished'
    | 'revert-branch'
    | 'follow-up'
    | 'frozen'
    | 'unfrozen'
    | 'deploy-refused'
    | 'drift'
    | 'gitops'
    | 'alert';
  /** What happened, for people: words and references (who, which channel) each front end renders. */
  text: string | Text;
  by?: string | undefined;
  ok?: boolean | undefined;
  durationMs?: number | undefined;
  /** On `finished`: the verification results. */
  checks?: VerifyCheck[] | undefined;
  /** On `revert-branch`: the commits undone. */
  commits?: Array<{ sha: string; subject: string }> | undefined;
}

/** Where timelines are kept (Redis in production). */
export interface TimelineStore {
  append(requestId: string, event: TimelineEvent): Promise<void>;
  timeline(requestId: string): Promise<TimelineEvent[]>;
  /** Request ids, newest first: every target, or one. */
  recentRequests(target: string | undefined, limit: number): Promise<string[]>;
}

/**
 * Appends events in order without making anyone wait: the rollback never blocks on its own record.
 * A failed write is logged by the caller's `onError` and the next ones still go.
 */
export class TimelineWriter {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: TimelineStore,
    private readonly requestId: string,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  record(event: Omit<TimelineEvent, 'at'> & { at?: number }): void {
    const full: TimelineEvent = { ...event, at: event.at ?? this.now() };
    this.tail = this.tail.then(() => this.store.append(this.requestId, full)).catch(this.onError);
  }

  flush(): Promise<void> {
    return this.tail;
  }
}
