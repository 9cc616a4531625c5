import { badInput } from '@snapdeck/domain';
import { Cron } from 'croner';

/** The nicknames the contract accepts (croner knows more: @yearly, @annually, @midnight are refused). */
const NICKNAMES = new Set(['@hourly', '@daily', '@weekly', '@monthly']);

/** How many occurrences ahead the minimum-interval check looks at. */
const INTERVAL_SAMPLE = 50;

/** DST moves a clock back by at most two hours (Lord Howe by 30 minutes): how far back a repeat is looked for. */
const REPEAT_SHIFTS_MS = [30, 60, 120].map((minutes) => minutes * 60_000);

/**
 * A policy's schedule, parsed and iterated by croner in its IANA time zone. Croner already runs a local time
 * that DST skips at the first instant after the gap (02:30 on a spring-forward day runs at 03:00), and a fixed
 * local time that DST repeats at its first pass; what it does not do is keep a fixed-hour pattern from firing
 * again during the repeated hour (`*\/15 1 * * *` would run 01:00–01:45 twice): `next` drops those repeats.
 * A pattern whose hour field is a wildcard (`0 * * * *`, every N hours) counts elapsed time and keeps them.
 */
export class PolicySchedule {
  private readonly cron: Cron;
  private readonly wallClock: Intl.DateTimeFormat;
  private readonly fixedHours: boolean;

  private constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    this.cron = new Cron(expression, { timezone, paused: true });
    this.wallClock = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    this.fixedHours = !hourField(expression).startsWith('*');
  }

  /**
   * Checks and parses: a bad expression is BAD_USER_INPUT naming `schedule`, an unknown zone naming `timezone`,
   * a schedule that never fires or fires more often than `minIntervalSeconds` naming `schedule`.
   */
  static parse(expression: string, timezone: string, minIntervalSeconds: number, now = new Date()): PolicySchedule {
    assertTimezone(timezone);
    const text = expression.trim().replace(/\s+/g, ' ');
    assertShape(text);
    let schedule: PolicySchedule;
    try {
      schedule = new PolicySchedule(text, timezone);
    } catch (error) {
      throw badInput(`schedule is not a valid cron expression: ${(error as Error).message}`, 'schedule');
    }
    const runs = schedule.nextRuns(INTERVAL_SAMPLE, now);
    if (runs.length === 0) throw badInput('schedule never fires (no such date in any year)', 'schedule');
    const gap = smallestGapSeconds(runs);
    if (gap !== null && gap < minIntervalSeconds) {
      throw badInput(
        `schedule fires every ${gap} s at times, more often than the minimum of ${minIntervalSeconds} s (POLICY_MIN_INTERVAL_SECONDS)`,
        'schedule',
      );
    }
    return schedule;
  }

  /** For a stored policy, already checked when it was written. */
  static of(expression: string, timezone: string): PolicySchedule {
    return new PolicySchedule(expression, timezone);
  }

  /** The first occurrence strictly after `after`, or null if there is none. */
  next(after: Date): Date | null {
    let from = after;
    // Each skipped repeat moves on by at least a second; a repeated hour holds at most 3,600 of them.
    for (let guard = 0; guard < 4000; guard++) {
      const run = this.cron.nextRun(from);
      if (!run) return null;
      if (!this.fixedHours || !this.isRepeatedWallTime(run)) return run;
      from = run;
    }
    return null;
  }

  /** The latest occurrence at or before `at` (what a scheduler back after a long outage catches up), or null. */
  latestAtOrBefore(at: Date): Date | null {
    let before = new Date(at.getTime() + 1);
    for (let guard = 0; guard < 4000; guard++) {
      const [run] = this.cron.previousRuns(1, before);
      if (!run) return null;
      if (!this.fixedHours || !this.isRepeatedWallTime(run)) return run;
      before = run;
    }
    return null;
  }

  /** Up to `count` occurrences after `after`, in order. */
  nextRuns(count: number, after: Date): Date[] {
    const runs: Date[] = [];
    let from = after;
    while (runs.length < count) {
      const run = this.next(from);
      if (!run) break;
      runs.push(run);
      from = run;
    }
    return runs;
  }

  /** The instant shows a local time the clock already showed shortly before (the second pass of a DST fall-back). */
  private isRepeatedWallTime(at: Date): boolean {
    const wall = this.wallClock.format(at);
    return REPEAT_SHIFTS_MS.some((shift) => this.wallClock.format(new Date(at.getTime() - shift)) === wall);
  }
}

/** The smallest distance in seconds between consecutive runs, or null with fewer than two. */
export function smallestGapSeconds(runs: readonly Date[]): number | null {
  let smallest: number | null = null;
  for (let i = 1; i < runs.length; i++) {
    const gap = (runs[i].getTime() - runs[i - 1].getTime()) / 1000;
    if (smallest === null || gap < smallest) smallest = gap;
  }
  return smallest;
}

function assertTimezone(timezone: string): void {
  // Intl knows the IANA database (and its links such as UTC, EST); offsets like "+01:00" are not zones.
  const named = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timezone);
  try {
    if (named) new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw badInput(`timezone ${JSON.stringify(timezone)} is not an IANA time zone (e.g. Europe/Madrid)`, 'timezone');
  }
  if (!named) {
    throw badInput(`timezone ${JSON.stringify(timezone)} is not an IANA time zone (e.g. Europe/Madrid)`, 'timezone');
  }
}

function assertShape(text: string): void {
  if (text.startsWith('@')) {
    if (!NICKNAMES.has(text.toLowerCase())) {
      throw badInput('schedule nicknames are @hourly, @daily, @weekly and @monthly', 'schedule');
    }
    return;
  }
  const fields = text.split(' ').length;
  if (fields !== 5 && fields !== 6) {
    throw badInput(`schedule needs 5 fields (minute first) or 6 (seconds first), not ${fields}`, 'schedule');
  }
}

/** The hour field of a 5- or 6-field expression; a nickname's as croner expands it. */
function hourField(expression: string): string {
  if (expression.startsWith('@')) return expression.toLowerCase() === '@hourly' ? '*' : '0';
  const fields = expression.split(' ');
  return fields[fields.length === 6 ? 2 : 1];
}
