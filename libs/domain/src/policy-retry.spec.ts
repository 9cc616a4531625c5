import { policyRetryAt } from './policy-retry.js';

describe('policyRetryAt', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const options = { maxRetries: 3, baseSeconds: 30 };
  const hourLater = new Date('2026-01-01T01:00:00Z');

  it('backs off exponentially from the base', () => {
    expect(policyRetryAt(1, now, hourLater, options)?.toISOString()).toBe('2026-01-01T00:00:30.000Z');
    expect(policyRetryAt(2, now, hourLater, options)?.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    expect(policyRetryAt(3, now, hourLater, options)?.toISOString()).toBe('2026-01-01T00:02:00.000Z');
  });

  it('stops after maxRetries', () => {
    expect(policyRetryAt(4, now, hourLater, options)).toBeNull();
  });

  it('never retries at or past the next occurrence', () => {
    expect(policyRetryAt(1, now, new Date('2026-01-01T00:00:30Z'), options)).toBeNull();
    expect(policyRetryAt(1, now, new Date('2026-01-01T00:00:31Z'), options)).not.toBeNull();
  });
});
