import type { JobName, JobOutcome } from '@snapdeck/contracts';
import { DriverError } from '../drivers/volume-driver.js';

export type Failure = Extract<JobOutcome, { ok: false }>;

export function failed(message: string, retryable?: boolean): Failure {
  return retryable === undefined ? { ok: false, message } : { ok: false, message, retryable };
}

/**
 * Expected driver failures become a failed outcome; anything else is a bug and is rethrown, so the job runner
 * reports it as an unexpected error (and logs it with its stack) instead of a handler hiding it.
 */
export function driverFailure<N extends JobName>(error: unknown): JobOutcome<N> {
  if (error instanceof DriverError) return failed(error.message, error.retryable);
  throw error;
}
