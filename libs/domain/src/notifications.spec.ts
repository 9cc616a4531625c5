import { DomainError, ErrorCode } from './errors.js';
import {
  DEFAULT_RETRY_POLICY,
  nextAttemptAt,
  NOTIFIABLE_EVENT_TYPES,
  notifyAddresses,
  parseEmailAddresses,
  parseEventTypes,
  retryDelayMs,
  subscribes,
} from './notifications.js';

describe('retry back-off', () => {
  const policy = { baseMs: 10_000, maxMs: 3_600_000, giveUpAfterMs: 86_400_000 };

  it('doubles per attempt, between half and all of base·2^(n−1)', () => {
    expect(retryDelayMs(1, policy, 0)).toBe(5_000);
    expect(retryDelayMs(1, policy, 0.999999)).toBe(10_000);
    expect(retryDelayMs(2, policy, 0)).toBe(10_000);
    expect(retryDelayMs(4, policy, 0.5)).toBe(60_000);
  });

  it('never waits longer than the cap, however many attempts', () => {
    expect(retryDelayMs(30, policy, 0.999999)).toBeLessThanOrEqual(3_600_000);
    expect(retryDelayMs(30, policy, 0.999999)).toBeGreaterThan(3_599_000);
    expect(retryDelayMs(1000, policy, 0)).toBe(1_800_000);
  });

  it('spreads retries of one attempt number (jitter)', () => {
    const waits = new Set([0, 0.25, 0.5, 0.75].map((r) => retryDelayMs(5, policy, r)));
    expect(waits.size).toBe(4);
  });

  it('gives up once the next attempt would fall past the bound', () => {
    const created = new Date('2026-12-01T00:00:00Z');
    expect(nextAttemptAt(created, new Date('2026-12-01T00:00:01Z'), 1, policy, 0)).toEqual(
      new Date('2026-12-01T00:00:06Z'),
    );
    expect(nextAttemptAt(created, new Date('2026-12-01T23:59:00Z'), 20, policy, 0)).toBeNull();
  });

  it('keeps retrying for about a day with the default policy, then stops', () => {
    const created = new Date(0);
    let at: Date | null = created;
    let attempts = 0;
    while (at) {
      attempts++;
      at = nextAttemptAt(created, at, attempts, DEFAULT_RETRY_POLICY, 1 - Number.EPSILON);
    }
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(40);
  });
});

describe('event type lists', () => {
  it('takes the contract types, in its order, deduplicated; absent or empty means all', () => {
    expect(parseEventTypes(['quota.exceeded', 'snapshot.completed', 'quota.exceeded'])).toEqual([
      'snapshot.completed',
      'quota.exceeded',
    ]);
    expect(parseEventTypes(undefined)).toEqual([]);
    expect(subscribes([], 'policy.run.failed')).toBe(true);
    expect(subscribes(['snapshot.failed'], 'policy.run.failed')).toBe(false);
    expect(NOTIFIABLE_EVENT_TYPES).toHaveLength(11);
  });

  it('refuses an unknown or non-notifiable type with BAD_USER_INPUT naming the field', () => {
    for (const bad of ['snapshot.exploded', 'user.created', '']) {
      try {
        parseEventTypes(['snapshot.completed', bad], 'events');
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe(ErrorCode.BAD_USER_INPUT);
        expect((error as DomainError).details).toEqual({ field: 'events' });
      }
    }
  });
});

describe('addresses', () => {
  it('reads notify from details, trimmed, lower-cased, once each', () => {
    expect(notifyAddresses({ notify: ['Ops@Example.com ', 'ops@example.com', 3, 'b@x.io'] })).toEqual([
      'ops@example.com',
      'b@x.io',
    ]);
    expect(notifyAddresses({})).toEqual([]);
    expect(notifyAddresses(null)).toEqual([]);
  });

  it('refuses a malformed address naming the field', () => {
    expect(parseEmailAddresses(['a@b.io', 'A@B.io'])).toEqual(['a@b.io']);
    expect(() => parseEmailAddresses(['not-an-address'])).toThrow(/emails: not an e-mail address/);
    expect(() => parseEmailAddresses(['a b@c.io'])).toThrow(DomainError);
  });
});
