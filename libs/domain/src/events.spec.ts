import { EventType, eventTypeName } from './events.js';

describe('EventType', () => {
  const entries = Object.entries(EventType);

  // The contract's policy events have a third part: policy.run.<outcome>.
  it('is `<resource>.<what happened>` (at most one more `.<part>`), in lower snake case', () => {
    for (const [, value] of entries) expect(value).toMatch(/^[a-z]+(_[a-z]+)*(\.[a-z]+(_[a-z]+)*){1,2}$/);
  });

  it('names each value by its string in UPPER_SNAKE case, so GraphQL and the table say the same', () => {
    for (const [key, value] of entries) expect(key).toBe(eventTypeName(value));
  });

  it('holds each string once', () => {
    expect(new Set(entries.map(([, value]) => value)).size).toBe(entries.length);
  });
});
