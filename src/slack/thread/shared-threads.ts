import type { KnownBlock } from '@slack/web-api';
import type { LineBatcher } from './line-batcher.js';
import type { SerialSender } from './serial-sender.js';

/** One thread's writer in this process: its sender and the lines it is gathering, shared by every reporter on it. */
export interface SharedThread {
  sender: SerialSender;
  lines: LineBatcher<KnownBlock>;
}

const threads = new Map<string, { shared: SharedThread; users: number }>();

/**
 * The writer of the thread `key` in this process, made by `make` for its first user; `release` when done with it
 * (the last user's release forgets it). The members of a multi-target rollback share their notice's thread: one
 * writer per process packs all their lines into few messages, where Slack takes about one a second per channel.
 */
export function acquireThread(key: string, make: () => SharedThread): { shared: SharedThread; release(): void } {
  const entry = threads.get(key) ?? { shared: make(), users: 0 };
  entry.users += 1;
  threads.set(key, entry);
  let released = false;
  return {
    shared: entry.shared,
    release() {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0 && threads.get(key) === entry) threads.delete(key);
    },
  };
}
