/**
 * Fault injection for the Kubernetes simulator: "answer the next N requests matching method+path with
 * status S and headers H", "carry them out, then answer S" (the outcome a client cannot know), and "hold
 * them unanswered". Each fault is used up request by request, in the order the faults were injected.
 */
import { ApiError, reasonFor } from './api-error.js';

/** What a fault is matched against. */
export interface KubeFaultRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** helm and kubectl name themselves here ("Helm/4.1.4", "kubectl/v1.33 …"); client-node sends node-fetch's. */
  userAgent: string | undefined;
}

export interface KubeFaultSpec {
  /** How many matching requests it takes; it is used up after that. */
  count: number;
  /** The status answered (a metav1.Status body); default 503. Ignored when `hang` holds the request. */
  status?: number;
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }`. A 429 without them gets `Retry-After: 1`. */
  headers?: Record<string, string>;
  method?: string;
  /** The URL path, exactly, or a pattern. */
  path?: string | RegExp;
  match?: (req: KubeFaultRequest) => boolean;
  /**
   * 'before' (default): answered instead of the API server, so nothing happened. 'after': the request is
   * carried out (a PATCH applied, a Secret written), then answered with the fault. Not for watches.
   */
  phase?: 'before' | 'after';
  /** Never answered: the connection stays open until the client gives up or the simulator closes. */
  hang?: boolean;
}

/** A fault picked for one request. */
export interface KubeFault {
  phase: 'before' | 'after';
  hang: boolean;
  error: ApiError;
  headers: Record<string, string>;
  /** For the request log: "503 after", "held". */
  label: string;
}

export class FaultBook {
  private readonly faults: KubeFaultSpec[] = [];

  add(spec: KubeFaultSpec): void {
    this.faults.push({ ...spec });
  }

  /** Drops every fault not used up yet. */
  clear(): void {
    this.faults.length = 0;
  }

  /** Takes one use of the first fault that matches, if any. */
  take(req: KubeFaultRequest): KubeFault | undefined {
    const spec = this.faults.find((f) => f.count > 0 && matches(f, req));
    if (!spec) return undefined;
    spec.count -= 1;
    const status = spec.status ?? 503;
    const phase = spec.phase ?? 'before';
    const hang = spec.hang ?? false;
    const headers = spec.headers ?? (status === 429 ? { 'Retry-After': '1' } : {});
    return {
      phase,
      hang,
      headers,
      error: new ApiError(status, reasonFor(status), `injected fault: ${status} ${reasonFor(status)}`),
      label: hang ? `held${phase === 'after' ? ' after' : ''}` : `${status}${phase === 'after' ? ' after' : ''}`,
    };
  }
}

function matches(spec: KubeFaultSpec, req: KubeFaultRequest): boolean {
  if (spec.method && spec.method.toUpperCase() !== req.method) return false;
  if (typeof spec.path === 'string' && spec.path !== req.path) return false;
  if (spec.path instanceof RegExp && !spec.path.test(req.path)) return false;
  return !spec.match || spec.match(req);
}
