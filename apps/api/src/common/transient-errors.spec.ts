import pg from 'pg';
import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isTransientError } from './transient-errors.js';

/** A server error as node-postgres raises it, wrapped by TypeORM as a repository call sees it. */
function queryFailed(sqlstate: string): QueryFailedError {
  const driverError = new pg.DatabaseError('server says no', 0, 'error');
  driverError.code = sqlstate;
  return new QueryFailedError('SELECT 1', [], driverError);
}

const withCode = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('isTransientError', () => {
  it.each([
    ['08006 connection failure', '08006'],
    ['08003 connection does not exist', '08003'],
    ['08P01 protocol violation', '08P01'],
    ['57P01 admin shutdown', '57P01'],
    ['57P02 crash shutdown', '57P02'],
    ['57P03 cannot connect now', '57P03'],
    ['53300 too many connections', '53300'],
    ['40001 serialization failure', '40001'],
    ['40P01 deadlock detected', '40P01'],
  ])('takes SQLSTATE %s as transient', (_label, sqlstate) => {
    expect(isTransientError(queryFailed(sqlstate))).toBe(true);
  });

  it.each(['23505', '23503', '22P02', '42P01', '42703', '57014', '53100'])(
    'takes SQLSTATE %s (a bug, bad data, a cancel, a full disk) as not transient',
    (sqlstate) => {
      expect(isTransientError(queryFailed(sqlstate))).toBe(false);
    },
  );

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'])(
    'takes a socket %s as transient',
    (code) => {
      expect(isTransientError(withCode(code))).toBe(true);
    },
  );

  it('looks into an AggregateError (a connection refused on every address) and a cause', () => {
    expect(isTransientError(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe(true);
    expect(isTransientError(new Error('the change feed failed', { cause: withCode('ECONNRESET') }))).toBe(true);
    expect(isTransientError(new AggregateError([new Error('a bug')]))).toBe(false);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
    'the database system is starting up',
    'Connection is closed.',
    'Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.',
  ])('takes "%s" as transient', (message) => {
    expect(isTransientError(new Error(message))).toBe(true);
    expect(isTransientError(new QueryFailedError('SELECT 1', [], new Error(message)))).toBe(true);
  });

  it("takes TypeORM's QueryRunnerAlreadyReleasedError (the transaction's connection died) by its name", () => {
    expect(isTransientError(new QueryRunnerAlreadyReleasedError())).toBe(true);
    expect(isTransientError(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
  });

  it('takes ioredis MaxRetriesPerRequestError by its name', () => {
    const error = Object.assign(new Error('retries ran out'), { name: 'MaxRetriesPerRequestError' });
    expect(isTransientError(error)).toBe(true);
  });

  it('takes ordinary errors and non-errors as not transient', () => {
    expect(isTransientError(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(isTransientError(new TypeError('x is not a function'))).toBe(false);
    expect(isTransientError(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
    expect(isTransientError('ECONNREFUSED')).toBe(false);
  });

  it('stops at a cycle of causes', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(isTransientError(a)).toBe(false);
  });
});
