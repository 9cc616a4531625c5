import type { NewEvent } from './repositories/event.repository.js';

const SURVIVING_EVENT = Symbol('snapdeck.eventSurvivingRollback');

/**
 * Marks an error with an event that must be recorded although the error rolls its transaction back (a request
 * refused by a limit: `quota.exceeded` is worth telling, but nothing of the request may stay). Database.transaction
 * records it in a transaction of its own after the rollback and rethrows the error unchanged; recording it
 * inside the failing transaction would be undone, and opening a second connection while the first still holds its
 * locks could starve the pool.
 */
export function withEventSurvivingRollback<E extends Error>(error: E, event: NewEvent): E {
  Object.defineProperty(error, SURVIVING_EVENT, { value: event, enumerable: false });
  return error;
}

export function eventSurvivingRollback(error: unknown): NewEvent | undefined {
  return error instanceof Error ? (error as Error & { [SURVIVING_EVENT]?: NewEvent })[SURVIVING_EVENT] : undefined;
}
