import type { ResourceType } from './resources.js';

/** A `metav1.Status` failure, thrown anywhere in the simulator and written out by the server. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: Array<Record<string, string>> },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static notFound(type: ResourceType, name: string): ApiError {
    const qualified = type.group ? `${type.name}.${type.group}` : type.name;
    return new ApiError(404, 'NotFound', `${qualified} "${name}" not found`, {
      name,
      group: type.group,
      kind: type.name,
    });
  }

  static alreadyExists(type: ResourceType, name: string): ApiError {
    const qualified = type.group ? `${type.name}.${type.group}` : type.name;
    return new ApiError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
      name,
      group: type.group,
      kind: type.name,
    });
  }

  static conflict(type: ResourceType, name: string): ApiError {
    const qualified = type.group ? `${type.name}.${type.group}` : type.name;
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: type.group, kind: type.name },
    );
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  static invalid(type: ResourceType, name: string, message: string): ApiError {
    return new ApiError(422, 'Invalid', `${type.kind} "${name}" is invalid: ${message}`, {
      name,
      group: type.group,
      kind: type.kind,
    });
  }
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonFor(code: number): string {
  return REASONS[code] ?? 'Unknown';
}
