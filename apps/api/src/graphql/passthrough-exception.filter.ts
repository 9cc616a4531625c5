import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { serviceUnavailable } from '@snapdeck/domain';
import type { Response } from 'express';
import { isTransientError } from '../common/transient-errors.js';

/**
 * Hands every GraphQL resolver error to Apollo untouched: the error formatter gives it its code and logs
 * only the unexpected ones, instead of Nest logging each expected DomainError with a stack. HTTP routes
 * keep Nest's default handling, except a dependency's transient outage before GraphQL runs (the
 * failed-authentication limiter looks the token up in PostgreSQL): 503 with the GraphQL-shaped
 * SERVICE_UNAVAILABLE, retryable, as the error formatter answers it, instead of a bare 500.
 */
@Catch()
export class PassthroughExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() === 'graphql') return exception;
    const res = host.switchToHttp().getResponse<Response>();
    if (isTransientError(exception) && !res.headersSent) {
      const unavailable = serviceUnavailable();
      res
        .status(503)
        .set('Retry-After', '1')
        .json({
          errors: [{ message: unavailable.message, extensions: { code: unavailable.code, ...unavailable.details } }],
        });
      return undefined;
    }
    return super.catch(exception, host);
  }
}
