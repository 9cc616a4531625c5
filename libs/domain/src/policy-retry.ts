/**
 * When a failed occurrence of a policy is tried again: after `baseSeconds · 2^(attempt-1)`, at most `maxRetries`
 * times, and never at or past the next occurrence (a failure must not swallow the next run, nor retry forever:
 * CloudStack #13454). Null: no retry, move on to the next occurrence.
 */
export function policyRetryAt(
  failedAttempts: number,
  now: Date,
  nextOccurrence: Date | null,
  options: { maxRetries: number; baseSeconds: number },
): Date | null {
  if (failedAttempts > options.maxRetries) return null;
  const at = new Date(now.getTime() + options.baseSeconds * 1000 * 2 ** (failedAttempts - 1));
  if (nextOccurrence && at.getTime() >= nextOccurrence.getTime()) return null;
  return at;
}
