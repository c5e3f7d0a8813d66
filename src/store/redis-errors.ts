import { RollbackError } from '../core/errors.js';

/**
 * What ioredis throws when Redis cannot be reached, as opposed to a command Redis refused (a bug). The app's
 * connection fails at once while Redis is down (`enableOfflineQueue: false`), so Slack gets an answer in
 * milliseconds; these words make that answer one a person can act on.
 */
const UNREACHABLE = [
  /Stream isn't writeable/,
  /Connection is closed/,
  /max retries per request/i,
  // ioredis while no Sentinel answers (a failover under way, the Sentinels restarting).
  /All sentinels are unreachable/,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE/,
  // A Redis restarting with persistence answers LOADING until the data is read back.
  /^LOADING /,
];

/** A coded QUEUE_UNAVAILABLE error when `error` says Redis is unreachable; undefined otherwise. */
function storeUnavailable(error: unknown): RollbackError | undefined {
  if (!(error instanceof Error) || error instanceof RollbackError) return undefined;
  if (!UNREACHABLE.some((pattern) => pattern.test(error.message))) return undefined;
  return new RollbackError(
    'QUEUE_UNAVAILABLE',
    'Redis is not answering, so rapid-rollback cannot read or record rollback requests right now. Nothing was started.',
    {
      hint: 'Try again in a minute. If Redis stays down, roll back by hand with the runbook (`rapid-rollback plan <target>` shows the plan without Redis).',
      retryable: true,
      cause: error,
    },
  );
}

/**
 * The adapter with every async method's Redis outage turned into QUEUE_UNAVAILABLE, so front ends and core
 * see one coded error and never ioredis's words (the adapters translate their own outages).
 */
export function translatingOutages<T extends object>(adapter: T): T {
  return new Proxy(adapter, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          throw storeUnavailable(error) ?? error;
        });
      };
    },
  });
}
