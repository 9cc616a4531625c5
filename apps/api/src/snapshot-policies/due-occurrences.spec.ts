import { dueOccurrences, MAX_MISSED_RECORDED } from './due-occurrences.js';
import { PolicySchedule } from './schedule.js';

const at = (iso: string) => new Date(iso);
const hourly = PolicySchedule.of('0 * * * *', 'UTC');

describe('dueOccurrences', () => {
  it('runs the occurrence that is due, and nothing is missed', () => {
    const due = dueOccurrences(hourly, at('2026-06-01T10:00:00Z'), at('2026-06-01T10:00:00.300Z'));
    expect(due.run?.toISOString()).toBe('2026-06-01T10:00:00.000Z');
    expect(due.missed).toEqual([]);
    expect(due.next?.toISOString()).toBe('2026-06-01T11:00:00.000Z');
  });

  it('after an outage over three occurrences: one catch-up, two MISSED', () => {
    const due = dueOccurrences(hourly, at('2026-06-01T10:00:00Z'), at('2026-06-01T12:20:00Z'));
    expect(due.run?.toISOString()).toBe('2026-06-01T12:00:00.000Z');
    expect(due.missed.map((d) => d.toISOString())).toEqual(['2026-06-01T10:00:00.000Z', '2026-06-01T11:00:00.000Z']);
    expect(due.uncounted).toBe(false);
    expect(due.next?.toISOString()).toBe('2026-06-01T13:00:00.000Z');
  });

  it("no catch-up when the latest is staler than the schedule's own interval (00:00 and 01:00 daily, back at 23:00)", () => {
    const twice = PolicySchedule.of('0 0,1 * * *', 'UTC');
    const due = dueOccurrences(twice, at('2026-06-01T01:00:00Z'), at('2026-06-01T23:00:00Z'));
    expect(due.run).toBeNull();
    expect(due.missed.map((d) => d.toISOString())).toEqual(['2026-06-01T01:00:00.000Z']);
    expect(due.next?.toISOString()).toBe('2026-06-02T00:00:00.000Z');
  });

  it('a long outage of a frequent schedule records the latest MAX_MISSED_RECORDED and says more were missed', () => {
    const everyFive = PolicySchedule.of('*/5 * * * *', 'UTC');
    const due = dueOccurrences(everyFive, at('2026-06-01T00:00:00Z'), at('2026-06-08T00:02:00Z'));
    expect(due.run?.toISOString()).toBe('2026-06-08T00:00:00.000Z');
    expect(due.missed).toHaveLength(MAX_MISSED_RECORDED);
    expect(due.missed[MAX_MISSED_RECORDED - 1].toISOString()).toBe('2026-06-07T23:55:00.000Z');
    expect(due.uncounted).toBe(true);
  });
});
