import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';

/**
 * Hands every resolver error to Apollo untouched: the error formatter gives it its code and logs only the
 * unexpected ones, instead of Nest logging each expected DomainError with a stack.
 */
@Catch()
export class PassthroughExceptionFilter implements GqlExceptionFilter {
  catch(exception: unknown): unknown {
    return exception;
  }
}
