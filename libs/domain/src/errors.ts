/** The error codes of the public contract: every error a client sees carries exactly one. */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  CONFLICT = 'CONFLICT',
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  PRECONDITION_FAILED = 'PRECONDITION_FAILED',
  /** A dependency (PostgreSQL, Redis) was briefly out of reach: retry (`extensions.retryable: true`). */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** An expected failure with a code; its message is written for the client and safe to show. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Another tenant's resource and a missing one read the same, so existence does not leak. */
export function notFound(resource: string, id: string): DomainError {
  return new DomainError(ErrorCode.NOT_FOUND, `${resource} ${id} not found`);
}

export function badInput(message: string, field?: string): DomainError {
  return new DomainError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : undefined);
}

export function conflict(message: string): DomainError {
  return new DomainError(ErrorCode.CONFLICT, message);
}

export function preconditionFailed(message: string): DomainError {
  return new DomainError(ErrorCode.PRECONDITION_FAILED, message);
}

/** A transient outage: the same request may be sent again (a mutation with its Idempotency-Key, to be safe). */
export function serviceUnavailable(
  message = 'A service the api depends on is briefly unavailable: retry the request (a mutation with the same Idempotency-Key)',
): DomainError {
  return new DomainError(ErrorCode.SERVICE_UNAVAILABLE, message, { retryable: true });
}

export function forbidden(message = 'You are not allowed to do this'): DomainError {
  return new DomainError(ErrorCode.FORBIDDEN, message);
}

export function assertUnreachable(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
