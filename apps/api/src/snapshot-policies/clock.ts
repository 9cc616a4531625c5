/** The time the policy scheduler reads: injectable so integration tests drive a hundred occurrences in a second. */
export interface Clock {
  now(): Date;
}

export const POLICY_CLOCK = Symbol('POLICY_CLOCK');

export const systemClock: Clock = { now: () => new Date() };
