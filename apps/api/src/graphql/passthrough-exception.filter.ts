import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/**
 * Hands every GraphQL resolver error to Apollo untouched: the error formatter gives it its code and logs
 * only the unexpected ones, instead of Nest logging each expected DomainError with a stack. HTTP routes
 * keep Nest's default handling.
 */
@Catch()
export class PassthroughExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() === 'graphql') return exception;
    return super.catch(exception, host);
  }
}
