import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * Answers first, work after. The app's one event loop both answers Slack's requests and does the work each
 * click starts (Redis scripts, BullMQ, Web API calls, parsing): 100 Approve clicks at once kept it busy for
 * about 1.2 s, and a request that arrived meanwhile waited its turn among that work (the clicks' answers
 * went out p99 1.16 s after they were sent). A listener calls `turn()` after `ack()` and before its work: it
 * waits while any HTTP request the receiver took is still unanswered, so those answers go out first. The
 * wait is bounded (`maxWaitMs`): a steady stream of requests delays the work, it never stops it.
 */
export interface AckGate {
  /** Wraps the receiver's listener: counts each request from its arrival to its answer (or a closed socket). */
  wrap(listener: RequestListener): RequestListener;
  /** Resolves once no request is waiting for its answer, or after maxWaitMs. */
  turn(): Promise<void>;
  /**
   * Runs `work` after `turn()` and when fewer than `slots` such works are running (first come, first served):
   * each piece of work's callbacks take turns on the loop with every request's, so the fewer run at once,
   * the sooner a request that arrives in the middle is answered.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Requests taken and not answered yet. */
  unanswered(): number;
}

export function ackGate(maxWaitMs = 250, slots = 16): AckGate {
  let open = 0;
  let running = 0;
  const queued: Array<() => void> = [];
  /** A finished work hands its slot to the first queued one, or frees it. */
  const nextSlot = () => {
    const next = queued.shift();
    if (next) next();
    else running--;
  };
  let waiting: Array<() => void> = [];
  const release = () => {
    if (open > 0 || waiting.length === 0) return;
    const ready = waiting;
    waiting = [];
    for (const resolve of ready) resolve();
  };
  return {
    wrap: (listener) => (req: IncomingMessage, res: ServerResponse) => {
      open++;
      let done = false;
      const answered = () => {
        if (done) return;
        done = true;
        open--;
        // After the answer's own callbacks: the work behind it starts in the next turn of the loop.
        if (open === 0) setImmediate(release);
      };
      res.once('finish', answered);
      res.once('close', answered);
      listener(req, res);
    },
    turn,
    run: async (work) => {
      await turn();
      if (running >= slots) await new Promise<void>((resolve) => queued.push(resolve));
      else running++;
      try {
        return await work();
      } finally {
        nextSlot();
      }
    },
    unanswered: () => open,
  };
  function turn(): Promise<void> {
    return open === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          let settled = false;
          const go = () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(go, maxWaitMs);
          waiting.push(go);
        });
  }
}

/** The gate for a receiver that does not answer over HTTP (Socket Mode): never waits. */
export const NO_GATE: AckGate = {
  wrap: (listener) => listener,
  turn: () => Promise.resolve(),
  run: (work) => work(),
  unanswered: () => 0,
};
