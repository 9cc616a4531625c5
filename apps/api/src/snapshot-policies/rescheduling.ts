import { PolicySchedule } from './schedule.js';

/** What a policy or a backup schedule stores of its calendar. */
export interface ScheduledRow {
  schedule: string;
  timezone: string;
  enabled: boolean;
}

/** The calendar fields of an update input; absent fields keep their values. */
export interface ScheduleUpdate {
  schedule?: string | null;
  timezone?: string | null;
  enabled?: boolean | null;
}

export interface RescheduleChanges {
  schedule: string;
  timezone: string;
  nextRunAt: Date;
  retryOf: null;
}

/**
 * A new schedule or zone, or enabling, counts the next run from now (a row disabled for a week does not catch up)
 * and drops a pending retry; otherwise nothing of the calendar changes (null).
 */
export function rescheduleOnUpdate(
  current: ScheduledRow,
  input: ScheduleUpdate,
  minIntervalSeconds: number,
  now: Date,
): RescheduleChanges | null {
  const expression = input.schedule ?? current.schedule;
  const timezone = input.timezone ?? current.timezone;
  const rescheduled = expression !== current.schedule || timezone !== current.timezone;
  const enabling = input.enabled === true && !current.enabled;
  if (!rescheduled && !enabling) return null;
  const schedule = PolicySchedule.parse(expression, timezone, minIntervalSeconds, now);
  return { schedule: schedule.expression, timezone: schedule.timezone, nextRunAt: schedule.next(now)!, retryOf: null };
}
