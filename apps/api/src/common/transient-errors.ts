/**
 * Which failures are a dependency's brief outage (a PostgreSQL restart, a failover, a dropped connection, Redis
 * out of reach) rather than a bug: the request can be sent again as it is. The error formatter answers them
 * SERVICE_UNAVAILABLE with `retryable: true`.
 */

/** Node's socket errors: the server is not there, or the connection broke under the request. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say "try again": the whole class 08 (connection exception) is matched by prefix; 57P01/57P02
 * (administrator or crash shutdown), 57P03 (cannot connect now: starting up or in recovery), 53300 (too many
 * connections), 40001/40P01 (serialization failure, deadlock: the transaction was rolled back whole).
 */
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/**
 * node-postgres and pg-pool raise these as plain Errors without a code when the server goes away or the pool
 * cannot hand out a connection in time; ioredis when its connection is closed or its retries ran out.
 */
const TRANSIENT_MESSAGES = [
  /^Connection terminated/i,
  /Client has encountered a connection error and is not queryable/i,
  /^timeout exceeded when trying to connect/i,
  /^Query read timeout/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /^Connection is closed\.?$/i,
  /Reached the max retries per request limit/i,
  /Stream isn't writeable and enableOfflineQueue options is false/i,
];

/**
 * Errors known by their names (no code on them): ioredis's for a server out of reach, and TypeORM's for a
 * transaction whose connection died under it (the pool released its query runner; the transaction never
 * committed, so answering retryable is right — the fault suite's PostgreSQL restarts found it).
 */
const TRANSIENT_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'QueryRunnerAlreadyReleasedError',
  // The same death seen through the transaction's EntityManager (its next query, e.g. the idempotency claim).
  'QueryRunnerProviderAlreadyReleasedError',
]);

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function isTransientOne(error: ErrorLike): boolean {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code && (NETWORK_CODES.has(code) || RETRYABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
    return true;
  }
  if (typeof error.name === 'string' && TRANSIENT_NAMES.has(error.name)) return true;
  return (
    typeof error.message === 'string' && TRANSIENT_MESSAGES.some((pattern) => pattern.test(error.message as string))
  );
}

/**
 * True when `error`, or what it wraps (TypeORM's `driverError`, a `cause`, an AggregateError's `errors` as Node
 * raises for a connection refused on every address), is a transient outage.
 */
export function isTransientError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as ErrorLike;
  if (isTransientOne(e)) return true;
  const inner = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? (e.errors as unknown[]) : [])];
  return inner.some((wrapped) => isTransientError(wrapped, depth + 1));
}
