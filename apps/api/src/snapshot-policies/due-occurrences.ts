import type { PolicySchedule } from './schedule.js';

/** At most this many MISSED runs (and events) are recorded for one outage: never a burst. */
export const MAX_MISSED_RECORDED = 100;

export interface DueOccurrences {
  /** The one occurrence to run now (the latest due, if within one interval of now), or null. */
  run: Date | null;
  /** Occurrences recorded MISSED, oldest first (at most MAX_MISSED_RECORDED, the most recent ones). */
  missed: Date[];
  /** Further missed occurrences before those, counted but not recorded one by one. */
  uncounted: boolean;
  /** The first occurrence after `now`. */
  next: Date | null;
}

/**
 * What a scheduler does with a policy due since `first` when it looks at `now`: the latest due occurrence runs
 * if it is at most one interval old (the normal case: it is milliseconds old; after an outage: the one
 * catch-up), every earlier one is MISSED, and nothing is queued up behind.
 */
export function dueOccurrences(schedule: PolicySchedule, first: Date, now: Date): DueOccurrences {
  const due: Date[] = [first];
  let uncounted = false;
  for (let at = schedule.next(first); at && at.getTime() <= now.getTime(); at = schedule.next(at)) {
    if (due.length > MAX_MISSED_RECORDED) {
      // A long outage with a frequent schedule: jump to the latest instead of walking every occurrence.
      uncounted = true;
      const latest = schedule.latestAtOrBefore(now)!;
      due.splice(0, due.length, ...schedule.nextRuns(MAX_MISSED_RECORDED, backOf(schedule, latest)), latest);
      break;
    }
    due.push(at);
  }
  const latest = due[due.length - 1];
  const next = schedule.next(latest);
  // One interval: the schedule's own spacing before the latest (after it, for a first occurrence). The gap after
  // would always hold `now`, so it would catch up a run however stale.
  const previous = due.length > 1 ? due[due.length - 2] : schedule.latestAtOrBefore(new Date(latest.getTime() - 1));
  const interval = previous
    ? latest.getTime() - previous.getTime()
    : next
      ? next.getTime() - latest.getTime()
      : Number.POSITIVE_INFINITY;
  const catchUp = now.getTime() - latest.getTime() <= interval;
  const missed = catchUp ? due.slice(0, -1) : due;
  return {
    run: catchUp ? latest : null,
    missed: missed.slice(-MAX_MISSED_RECORDED),
    uncounted: uncounted || missed.length > MAX_MISSED_RECORDED,
    next,
  };
}

/** An instant from which the next MAX_MISSED_RECORDED occurrences end just before `latest`. */
function backOf(schedule: PolicySchedule, latest: Date): Date {
  let from = latest;
  for (let i = 0; i < MAX_MISSED_RECORDED; i++) {
    const before = schedule.latestAtOrBefore(new Date(from.getTime() - 1));
    if (!before) break;
    from = before;
  }
  return new Date(from.getTime() - 1);
}
