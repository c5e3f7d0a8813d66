/**
 * Types for the parts of the untyped `fastly` npm package (v13) that client.ts uses; nothing else.
 * Read from node_modules/fastly/dist/ApiClient.js and dist/api/{Service,Version,Events,Diff}Api.js.
 * Response bodies are typed `unknown` on purpose: client.ts parses them with zod.
 *
 * client.ts requires the five files below, not the package index (which loads 800 model and 127 API
 * modules, about 40 MiB); the package has no `exports` map, so Node allows the deep paths. They are
 * Babel-compiled CommonJS: `require()` returns `{ default: TheClass }`.
 */
declare module 'fastly' {
  /** The superagent request the package builds; a plugin receives it before it is sent. */
  export interface FastlyRequest {
    /** The full URL; a plugin may still change it. */
    url: string;
    abort(): unknown;
  }

  /** The superagent response. Header names are lower-case. */
  export interface FastlyResponse {
    status: number;
    body: unknown;
    headers: Record<string, string | undefined>;
  }

  /** What every `*WithHttpInfo` call resolves to. */
  export interface FastlyHttpInfo {
    data: unknown;
    response: FastlyResponse;
  }

  /**
   * What every call rejects with: not an Error but a plain object. `status` and `response` exist
   * only when the server answered; `error` is superagent's error (with `code` such as
   * 'ECONNREFUSED', or `timeout` when superagent's own timeout fired).
   */
  export interface FastlyCallFailure {
    status?: number;
    body?: unknown;
    response?: FastlyResponse;
    error?: Error & { code?: string; timeout?: number };
  }

  export class ApiClient {
    constructor();
    /** Ignored by every *Api call, which passes its own base path to buildUrl. */
    basePath: string;
    /** Milliseconds; superagent's overall deadline for one request. */
    timeout: number;
    defaultHeaders: Record<string, string>;
    plugins: Array<(request: FastlyRequest) => void> | null;
    /** The http(s).Agent superagent sends with; null (the default) means a new connection per call. */
    requestAgent: import('node:http').Agent | null;
    /** Turns a response into the package's model objects (`data`); `response.body` stays as it is. */
    deserialize(response: FastlyResponse, returnType: unknown): unknown;
    authenticate(token: string, type?: 'token'): void;
    buildUrl(
      path: string,
      pathParams: Record<string, unknown>,
      pathParamsAllowReserved: Record<string, boolean>,
      apiBasePath?: string | null,
    ): string;
    /** A process-wide singleton; never used by rapid-rollback. */
    static instance: ApiClient;
  }

  export class ServiceApi {
    /** Re-authenticates `apiClient` from process.env.FASTLY_API_TOKEN when that is set. */
    constructor(apiClient?: ApiClient);
    getServiceDetailWithHttpInfo(options: {
      service_id: string;
      version?: number;
      filter_versions_active?: boolean;
    }): Promise<FastlyHttpInfo>;
  }

  export class VersionApi {
    /** Re-authenticates `apiClient` from process.env.FASTLY_API_TOKEN when that is set. */
    constructor(apiClient?: ApiClient);
    activateServiceVersionWithHttpInfo(options: { service_id: string; version_id: number }): Promise<FastlyHttpInfo>;
    listServiceVersions(options: {
      service_id: string;
    }): Promise<Array<{ number?: number; active?: boolean; locked?: boolean }>>;
  }

  export class EventsApi {
    /** Re-authenticates `apiClient` from process.env.FASTLY_API_TOKEN when that is set. */
    constructor(apiClient?: ApiClient);
    listEventsWithHttpInfo(options: {
      filter_customer_id?: string;
      filter_event_type?: string;
      filter_service_id?: string;
      filter_user_id?: string;
      filter_token_id?: string;
      page_number?: number;
      page_size?: number;
      sort?: string;
    }): Promise<FastlyHttpInfo>;
  }
}

declare module 'fastly' {
  export class DiffApi {
    /** Re-authenticates `apiClient` from process.env.FASTLY_API_TOKEN when that is set. */
    constructor(apiClient?: ApiClient);
    /** GET /service/{service_id}/diff/from/{from_version_id}/to/{to_version_id}?format= */
    diffServiceVersionsWithHttpInfo(options: {
      service_id: string;
      from_version_id: number;
      to_version_id: number;
      format?: 'text' | 'html' | 'html_simple';
    }): Promise<FastlyHttpInfo>;
  }
}

declare module 'fastly/dist/api/DiffApi.js' {
  const DiffApi: typeof import('fastly').DiffApi;

  export { DiffApi as default };
}

declare module 'fastly/dist/ApiClient.js' {
  const ApiClient: typeof import('fastly').ApiClient;

  export { ApiClient as default };
}

declare module 'fastly/dist/api/ServiceApi.js' {
  const ServiceApi: typeof import('fastly').ServiceApi;

  export { ServiceApi as default };
}

declare module 'fastly/dist/api/VersionApi.js' {
  const VersionApi: typeof import('fastly').VersionApi;

  export { VersionApi as default };
}

declare module 'fastly/dist/api/EventsApi.js' {
  const EventsApi: typeof import('fastly').EventsApi;

  export { EventsApi as default };
}
