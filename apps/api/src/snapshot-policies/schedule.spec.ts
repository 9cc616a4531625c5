import { DomainError, ErrorCode } from '@snapdeck/domain';
import { PolicySchedule, smallestGapSeconds } from './schedule.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const runs = (expression: string, timezone: string, from: string, count: number) =>
  iso(PolicySchedule.parse(expression, timezone, 1, new Date(from)).nextRuns(count, new Date(from)));

function refusal(expression: string, timezone: string, min = 300): { code: string; field: unknown } {
  try {
    PolicySchedule.parse(expression, timezone, min, new Date('2026-06-01T00:00:00Z'));
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { code: error.code, field: error.details?.field };
  }
  throw new Error(`${expression} in ${timezone} was accepted`);
}

describe('PolicySchedule (croner, in the policy time zone)', () => {
  describe('DST in Europe/Madrid', () => {
    it('runs a local time the spring change skips at the first instant after the gap (03:00 CEST)', () => {
      // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
      expect(runs('30 2 * * *', 'Europe/Madrid', '2026-03-28T00:00:00Z', 3)).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST, first instant after the gap
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('runs a local time the autumn change repeats once (its first pass)', () => {
      // 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
      expect(runs('30 2 * * *', 'Europe/Madrid', '2026-10-24T00:00:00Z', 3)).toEqual([
        '2026-10-24T00:30:00.000Z',
        '2026-10-25T00:30:00.000Z', // 02:30 CEST; not again at 02:30 CET (01:30Z)
        '2026-10-26T01:30:00.000Z',
      ]);
    });

    it('does not fire a fixed-hour pattern twice through the repeated hour', () => {
      expect(runs('*/30 2 * * *', 'Europe/Madrid', '2026-10-24T23:00:00Z', 4)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:00 and 02:30 CET (01:00Z, 01:30Z) are repeats
        '2026-10-26T01:00:00.000Z',
        '2026-10-26T01:30:00.000Z',
      ]);
    });
  });

  describe('DST in America/New_York', () => {
    it('spring: 02:30 runs at 03:00 EDT on the day it does not exist', () => {
      expect(runs('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual([
        '2026-03-08T07:00:00.000Z',
        '2026-03-09T06:30:00.000Z',
      ]);
    });

    it('fall: 01:30 runs once, at 01:30 EDT', () => {
      expect(runs('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual([
        '2026-11-01T05:30:00.000Z',
        '2026-11-02T06:30:00.000Z',
      ]);
    });

    it('fall: an hourly pattern keeps counting real hours (both 01:00s are different hours)', () => {
      expect(runs('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual([
        '2026-11-01T05:00:00.000Z', // 01:00 EDT
        '2026-11-01T06:00:00.000Z', // 01:00 EST
        '2026-11-01T07:00:00.000Z', // 02:00 EST
      ]);
    });
  });

  describe('month ends and leap years', () => {
    it('the 31st skips the months without one', () => {
      expect(runs('0 0 31 * *', 'UTC', '2027-01-15T00:00:00Z', 3)).toEqual([
        '2027-01-31T00:00:00.000Z',
        '2027-03-31T00:00:00.000Z',
        '2027-05-31T00:00:00.000Z',
      ]);
    });

    it('29 February runs only in leap years', () => {
      expect(runs('0 0 29 2 *', 'UTC', '2026-01-15T00:00:00Z', 2)).toEqual([
        '2028-02-29T00:00:00.000Z',
        '2032-02-29T00:00:00.000Z',
      ]);
    });

    it('31 February never fires: BAD_USER_INPUT on schedule', () => {
      expect(refusal('0 0 31 2 *', 'UTC')).toEqual({ code: ErrorCode.BAD_USER_INPUT, field: 'schedule' });
    });

    it('@monthly in a zone east of UTC is local midnight of the 1st', () => {
      expect(runs('@monthly', 'Europe/Madrid', '2027-01-15T00:00:00Z', 2)).toEqual([
        '2027-01-31T23:00:00.000Z',
        '2027-02-28T23:00:00.000Z',
      ]);
    });
  });

  describe('what is accepted', () => {
    it('takes 5 fields, 6 with seconds first, and the four nicknames', () => {
      expect(runs('*/2 * * * * *', 'UTC', '2026-06-01T00:00:00Z', 2)).toEqual([
        '2026-06-01T00:00:02.000Z',
        '2026-06-01T00:00:04.000Z',
      ]);
      for (const nickname of ['@hourly', '@daily', '@weekly', '@monthly']) {
        expect(() => PolicySchedule.parse(nickname, 'UTC', 300)).not.toThrow();
      }
    });

    it.each([
      ['bad', 'UTC'],
      ['* * *', 'UTC'],
      ['0 0 * * * * 2027', 'UTC'], // croner's 7th (year) field is not the contract's
      ['61 * * * *', 'UTC'],
      ['@yearly', 'UTC'],
      ['@reboot', 'UTC'],
    ])('refuses %j on schedule', (expression, timezone) => {
      expect(refusal(expression, timezone)).toEqual({ code: ErrorCode.BAD_USER_INPUT, field: 'schedule' });
    });

    it.each(['Mars/Olympus', '+01:00', 'GMT+1 ', '', '../etc/passwd'])('refuses the time zone %j on timezone', (tz) => {
      expect(refusal('@daily', tz)).toEqual({ code: ErrorCode.BAD_USER_INPUT, field: 'timezone' });
    });

    it('refuses a schedule that fires more often than the minimum interval, even only at times', () => {
      expect(refusal('*/1 * * * *', 'UTC', 300)).toEqual({ code: ErrorCode.BAD_USER_INPUT, field: 'schedule' });
      // Every 10 minutes, but twice a minute apart at :00 and :01.
      expect(refusal('0,1,10,20,30,40,50 * * * *', 'UTC', 300)).toEqual({
        code: ErrorCode.BAD_USER_INPUT,
        field: 'schedule',
      });
      expect(() => PolicySchedule.parse('*/5 * * * *', 'UTC', 300)).not.toThrow();
    });
  });

  it('smallestGapSeconds', () => {
    expect(smallestGapSeconds([])).toBeNull();
    expect(smallestGapSeconds([new Date(0), new Date(5000), new Date(7000)])).toBe(2);
  });
});

describe('PolicySchedule.latestAtOrBefore', () => {
  it('is the occurrence at or just before the instant, skipping a repeated DST hour', () => {
    const s = PolicySchedule.of('*/5 * * * *', 'UTC');
    expect(s.latestAtOrBefore(new Date('2026-06-01T00:07:00Z'))?.toISOString()).toBe('2026-06-01T00:05:00.000Z');
    expect(s.latestAtOrBefore(new Date('2026-06-01T00:05:00Z'))?.toISOString()).toBe('2026-06-01T00:05:00.000Z');
    const madrid = PolicySchedule.of('30 2 * * *', 'Europe/Madrid');
    // 02:30 CET on 2026-10-25 (01:30Z) is the repeat: the latest is 02:30 CEST (00:30Z).
    expect(madrid.latestAtOrBefore(new Date('2026-10-25T01:45:00Z'))?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });
});
