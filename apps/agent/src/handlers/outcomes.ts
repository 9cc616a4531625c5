import type { JobFailureReason, JobName, JobOutcome } from '@snapdeck/contracts';
import { DriverError } from '../drivers/volume-driver.js';

export type Failure = Extract<JobOutcome, { ok: false }>;

export function failed(message: string, retryable?: boolean, reason?: JobFailureReason): Failure {
  const failure: Failure = retryable === undefined ? { ok: false, message } : { ok: false, message, retryable };
  // Only when there is one: the api acts on a reason (a snapshot missing on disk is marked ERROR).
  return reason === undefined ? failure : { ...failure, reason };
}

/**
 * Expected driver failures become a failed outcome; anything else is a bug and is rethrown, so the job runner
 * reports it as an unexpected error (and logs it with its stack) instead of a handler hiding it.
 */
export function driverFailure<N extends JobName>(error: unknown): JobOutcome<N> {
  if (error instanceof DriverError) return failed(error.message, error.retryable, error.reason);
  throw error;
}
