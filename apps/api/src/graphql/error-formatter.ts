import { HttpException, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, serviceUnavailable } from '@snapdeck/domain';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { isTransientError } from '../common/transient-errors.js';

const logger = new Logger('GraphQLErrors');
/** Codes a client may see as they are; INTERNAL_SERVER_ERROR always goes through the production filter below. */
const CLIENT_VISIBLE_CODES = new Set<string>(
  Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
);

/** Apollo's own codes for a request that never reached a resolver: all the client's doing. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

function httpCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return ErrorCode.BAD_USER_INPUT;
    case 401:
      return ErrorCode.UNAUTHENTICATED;
    case 403:
      return ErrorCode.FORBIDDEN;
    case 404:
      return ErrorCode.NOT_FOUND;
    case 409:
      return ErrorCode.CONFLICT;
    default:
      return ErrorCode.INTERNAL_SERVER_ERROR;
  }
}

/**
 * An error Apollo raised itself about the request (a persisted-query hash that does not match its query, an
 * unknown persisted-query version): no code of its own, no resolver behind it, and a 4xx status.
 */
function isRequestError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.path || error.extensions.code) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** graphql-js's "Did you mean …?" names fields, types and enum values of the schema: not in production. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean(.+?)\?$/, '');
}

/**
 * Gives every error exactly one of the contract's codes. A dependency's transient outage is SERVICE_UNAVAILABLE
 * with `retryable: true` (common/transient-errors.ts). In production an unexpected error becomes a plain
 * "Internal server error": no stack, SQL or file path reaches the client (the full error goes to the log).
 */
export function createErrorFormatter(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const message = production ? withoutSuggestions(formatted.message) : formatted.message;
    const base = { message, locations: formatted.locations, path: formatted.path };

    if (original instanceof DomainError) {
      return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
    }
    if (original instanceof HttpException && original.getStatus() < 500) {
      return { ...base, message: original.message, extensions: { code: httpCode(original.getStatus()) } };
    }
    const apolloCode = formatted.extensions?.code;
    if ((typeof apolloCode === 'string' && CLIENT_CODES.has(apolloCode)) || isRequestError(error)) {
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    if (typeof apolloCode === 'string' && CLIENT_VISIBLE_CODES.has(apolloCode)) {
      return { ...base, extensions: { code: apolloCode } };
    }
    if (isTransientError(original)) {
      // A dependency's blip, not a bug: the client retries (with its Idempotency-Key); the log keeps the cause.
      logger.warn(`transient failure answered SERVICE_UNAVAILABLE: ${(original as Error).message}`);
      const unavailable = serviceUnavailable();
      return {
        message: unavailable.message,
        path: formatted.path,
        extensions: { code: unavailable.code, ...unavailable.details },
      };
    }
    logger.error(original instanceof Error ? (original.stack ?? original.message) : String(original));
    if (production) {
      return {
        message: 'Internal server error',
        path: formatted.path,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      };
    }
    return { ...base, extensions: { ...formatted.extensions, code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
