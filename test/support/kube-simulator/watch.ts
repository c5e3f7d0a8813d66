/**
 * `?watch=true`: newline-delimited JSON watch events over a chunked response. Covers the three ways
 * clients start a watch (k8s.io/apiserver watch semantics):
 *  - resourceVersion unset or "0": synthetic ADDED events for what exists, then changes;
 *  - resourceVersion N: the changes after N (410 Expired, as an ERROR event, if N is too old);
 *  - sendInitialEvents=true (watch-list, client-go's WatchListClient): ADDED for what exists, then a
 *    BOOKMARK annotated `k8s.io/initial-events-end: "true"`, then changes.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject, ObjectStore, StoreEvent } from './object-store.js';
import { groupVersion, type ResourceType } from './resources.js';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  matches: (object: KubeObject) => boolean;
  query: URLSearchParams;
  /** How an object goes on the wire: itself, or a one-row Table for `kubectl get -w`. */
  render?: (object: KubeObject) => KubeObject;
}

export function serveWatch(
  store: ObjectStore,
  request: WatchRequest,
  res: ServerResponse,
  track: (stop: () => void) => () => void,
): void {
  const { type, namespace, matches, query } = request;
  const render = request.render ?? ((object: KubeObject) => object);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();

  const relevant = (e: StoreEvent): boolean =>
    e.resource === type.name &&
    (namespace === undefined || e.object.metadata.namespace === namespace) &&
    matches(e.object);
  const write = (eventType: string, object: KubeObject): void => {
    const wire = eventType === 'BOOKMARK' || eventType === 'ERROR' ? object : render(object);
    if (!res.writableEnded) res.write(`${JSON.stringify({ type: eventType, object: wire })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>): void =>
    write('BOOKMARK', {
      kind: type.kind,
      apiVersion: groupVersion(type),
      metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) },
    });

  // Subscribe before replaying so nothing falls between the replay and the live stream.
  const buffered: StoreEvent[] = [];
  let live = false;
  let lastSent = 0;
  const unsubscribe = store.subscribe((e) => {
    if (!relevant(e)) return;
    if (!live) buffered.push(e);
    else if (e.resourceVersion > lastSent) {
      lastSent = e.resourceVersion;
      write(e.type, e.object);
    }
  });

  const rv = query.get('resourceVersion') ?? '';
  if (query.get('sendInitialEvents') === 'true') {
    for (const object of store.list(type.name, namespace).filter(matches)) write('ADDED', object);
    lastSent = store.resourceVersion;
    if (query.get('allowWatchBookmarks') === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else if (rv === '' || rv === '0') {
    for (const object of store.list(type.name, namespace).filter(matches)) write('ADDED', object);
    lastSent = store.resourceVersion;
  } else {
    const from = Number(rv);
    if (!Number.isFinite(from) || from < store.oldestResumable) {
      write('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rv} (${store.oldestResumable})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      unsubscribe();
      return;
    }
    for (const e of store.eventsSince(from)) {
      if (relevant(e)) write(e.type, e.object);
    }
    lastSent = store.resourceVersion;
  }
  live = true;
  for (const e of buffered) {
    if (e.resourceVersion > lastSent) {
      lastSent = e.resourceVersion;
      write(e.type, e.object);
    }
  }

  let timeout: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (timeout) clearTimeout(timeout);
    unsubscribe();
    untrack();
    if (!res.writableEnded) res.end();
  };
  const untrack = track(stop);
  const seconds = Number(query.get('timeoutSeconds') ?? '0');
  if (seconds > 0) timeout = setTimeout(stop, seconds * 1000);
  res.on('close', stop);
}
