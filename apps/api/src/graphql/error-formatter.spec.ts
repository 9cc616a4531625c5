import { GraphQLError } from 'graphql';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { conflict, serviceUnavailable } from '@snapdeck/domain';
import { createErrorFormatter } from './error-formatter.js';

/** What Apollo hands formatError for an error a resolver threw. */
function fromResolver(original: Error) {
  const error = new GraphQLError(original.message, { path: ['createSnapshot'], originalError: original });
  return { formatted: { message: original.message, path: ['createSnapshot'], extensions: {} }, error };
}

function adminShutdown(): QueryFailedError {
  const driverError = new pg.DatabaseError('terminating connection due to administrator command', 0, 'error');
  driverError.code = '57P01';
  return new QueryFailedError('INSERT INTO "snapshots" ("id") VALUES ($1)', ['x'], driverError);
}

describe.each([true, false])('the error formatter (production: %s)', (production) => {
  const format = createErrorFormatter(production);

  it('answers a transient database failure SERVICE_UNAVAILABLE, retryable, without its SQL', () => {
    const { formatted, error } = fromResolver(adminShutdown());
    const answer = format(formatted, error);
    expect(answer.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(answer.message).not.toMatch(/INSERT|snapshots|administrator|57P01/);
    expect(answer.path).toEqual(['createSnapshot']);
  });

  it('answers a dropped connection the same way', () => {
    const { formatted, error } = fromResolver(new Error('Connection terminated unexpectedly'));
    expect(format(formatted, error).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  it('keeps a DomainError SERVICE_UNAVAILABLE with its retryable flag', () => {
    const { formatted, error } = fromResolver(serviceUnavailable('the queue is briefly out of reach'));
    expect(format(formatted, error)).toMatchObject({
      message: 'the queue is briefly out of reach',
      extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
    });
  });

  it('leaves other codes alone: a CONFLICT is no outage', () => {
    const { formatted, error } = fromResolver(conflict('one operation per volume at a time'));
    expect(format(formatted, error).extensions).toEqual({ code: 'CONFLICT' });
  });

  it('still answers a bug INTERNAL_SERVER_ERROR, not retryable', () => {
    const { formatted, error } = fromResolver(new TypeError('x is not a function'));
    const answer = format(formatted, error);
    expect(answer.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(answer.extensions?.retryable).toBeUndefined();
  });
});
