import fc from 'fast-check';
import { markBackupsForPrune, type PrunableBackup, type PruneMark, type PruneRules } from './backup-prune.js';

const backup = (id: string, iso: string, parentId: string | null = null): PrunableBackup => ({
  id,
  createdAt: new Date(iso),
  parentId,
});

function kept(marks: Map<string, PruneMark>): string[] {
  return [...marks].filter(([, mark]) => mark !== 'remove').map(([id]) => id);
}

describe('markBackupsForPrune (Proxmox VE prune rules)', () => {
  it('without a positive rule keeps everything', () => {
    const backups = [backup('a', '2026-01-01T00:00:00Z'), backup('b', '2026-01-02T00:00:00Z')];
    expect(kept(markBackupsForPrune(backups, {}, 'UTC')).sort()).toEqual(['a', 'b']);
    expect(kept(markBackupsForPrune(backups, { keepLast: 0, keepDaily: null }, 'UTC')).sort()).toEqual(['a', 'b']);
  });

  it('keep-last keeps the n newest, whatever the order they come in', () => {
    const backups = ['03', '01', '05', '02', '04'].map((d) => backup(d, `2026-01-${d}T12:00:00Z`));
    const marks = markBackupsForPrune(backups, { keepLast: 3 }, 'UTC');
    expect(kept(marks).sort()).toEqual(['03', '04', '05']);
    expect(marks.get('01')).toBe('remove');
  });

  it('a later rule skips periods an earlier one covered (keep-last 1, keep-daily 2 over three days of two backups)', () => {
    const backups = [
      backup('d3-late', '2026-03-03T20:00:00Z'),
      backup('d3-early', '2026-03-03T08:00:00Z'),
      backup('d2-late', '2026-03-02T20:00:00Z'),
      backup('d2-early', '2026-03-02T08:00:00Z'),
      backup('d1-late', '2026-03-01T20:00:00Z'),
      backup('d1-early', '2026-03-01T08:00:00Z'),
    ];
    const marks = markBackupsForPrune(backups, { keepLast: 1, keepDaily: 2 }, 'UTC');
    // keep-last takes d3-late; its day is covered, so keep-daily keeps the newest of the next two days.
    expect(kept(marks).sort()).toEqual(['d1-late', 'd2-late', 'd3-late']);
  });

  it('weekly periods are ISO weeks: the last days of December can belong to week 53 with the next January', () => {
    const backups = [
      backup('mon-28-dec', '2026-12-28T12:00:00Z'), // 2026-W53
      backup('sat-2-jan', '2027-01-02T12:00:00Z'), // still 2026-W53
      backup('mon-4-jan', '2027-01-04T12:00:00Z'), // 2027-W01
    ];
    expect(kept(markBackupsForPrune(backups, { keepWeekly: 3 }, 'UTC')).sort()).toEqual(['mon-4-jan', 'sat-2-jan']);
    // Yearly counts calendar years: 2027's newest and 2026's.
    expect(kept(markBackupsForPrune(backups, { keepYearly: 2 }, 'UTC')).sort()).toEqual(['mon-28-dec', 'mon-4-jan']);
  });

  it("periods are the schedule's time zone's, not UTC's", () => {
    const backups = [
      backup('a', '2026-01-10T22:30:00Z'), // Madrid 23:30 on the 10th
      backup('b', '2026-01-10T23:30:00Z'), // Madrid 00:30 on the 11th
      backup('c', '2026-01-11T00:30:00Z'), // Madrid 01:30 on the 11th
    ];
    expect(kept(markBackupsForPrune(backups, { keepDaily: 2 }, 'UTC')).sort()).toEqual(['b', 'c']);
    expect(kept(markBackupsForPrune(backups, { keepDaily: 2 }, 'Europe/Madrid')).sort()).toEqual(['a', 'c']);
  });

  it('hourly follows local hours across a DST change (Europe/Madrid, 2026-10-25: 02:00-03:00 happens twice)', () => {
    const backups = [
      backup('first-0230', '2026-10-25T00:30:00Z'), // 02:30 CEST
      backup('second-0230', '2026-10-25T01:30:00Z'), // 02:30 CET: the same local hour
    ];
    expect(kept(markBackupsForPrune(backups, { keepHourly: 2 }, 'Europe/Madrid'))).toEqual(['second-0230']);
    expect(kept(markBackupsForPrune(backups, { keepHourly: 2 }, 'UTC')).sort()).toEqual(['first-0230', 'second-0230']);
  });

  it('a removed backup that a kept incremental is written on top of stays as needed, with its whole chain', () => {
    const backups = [
      backup('full', '2026-01-01T00:00:00Z'),
      backup('inc1', '2026-01-02T00:00:00Z', 'full'),
      backup('inc2', '2026-01-03T00:00:00Z', 'inc1'),
      backup('other-full', '2025-12-01T00:00:00Z'),
    ];
    const marks = markBackupsForPrune(backups, { keepLast: 1 }, 'UTC');
    expect(Object.fromEntries(marks)).toEqual({
      inc2: 'keep',
      inc1: 'needed',
      full: 'needed',
      'other-full': 'remove',
    });
  });

  describe('properties', () => {
    const rulesArb = fc.record({
      keepLast: fc.option(fc.integer({ min: 0, max: 5 })),
      keepHourly: fc.option(fc.integer({ min: 0, max: 5 })),
      keepDaily: fc.option(fc.integer({ min: 0, max: 5 })),
      keepWeekly: fc.option(fc.integer({ min: 0, max: 5 })),
      keepMonthly: fc.option(fc.integer({ min: 0, max: 5 })),
      keepYearly: fc.option(fc.integer({ min: 0, max: 5 })),
    }) as fc.Arbitrary<PruneRules>;
    const start = Date.UTC(2024, 0, 1);
    const backupsArb = fc
      .uniqueArray(fc.integer({ min: 0, max: 3 * 365 * 24 * 60 }), { minLength: 1, maxLength: 40 })
      .chain((minutes) =>
        fc.tuple(
          fc.constant(minutes),
          fc.array(fc.boolean(), { minLength: minutes.length, maxLength: minutes.length }),
        ),
      )
      .map(([minutes, incremental]) => {
        const sorted = [...minutes].sort((a, b) => a - b);
        return sorted.map((m, i) =>
          backup(`b${i}`, new Date(start + m * 60_000).toISOString(), i > 0 && incremental[i] ? `b${i - 1}` : null),
        );
      });
    const zoneArb = fc.constantFrom('UTC', 'Europe/Madrid', 'America/New_York', 'Asia/Kolkata');
    const positive = (rules: PruneRules) => Object.values(rules).filter((n): n is number => (n ?? 0) > 0);

    it('keeps the newest whenever a rule is set, at most the sum of the counts by rule, and every kept chain whole', () => {
      fc.assert(
        fc.property(backupsArb, rulesArb, zoneArb, (backups, rules, zone) => {
          const marks = markBackupsForPrune(backups, rules, zone);
          expect(marks.size).toBe(backups.length);
          const counts = positive(rules);
          if (counts.length === 0) return expect(kept(marks)).toHaveLength(backups.length);
          expect(marks.get(backups[backups.length - 1].id)).toBe('keep');
          const byRule = [...marks.values()].filter((m) => m === 'keep').length;
          expect(byRule).toBeLessThanOrEqual(counts.reduce((a, b) => a + b, 0));
          const parentOf = new Map(backups.map((b) => [b.id, b.parentId]));
          for (const id of kept(marks)) {
            const parent = parentOf.get(id);
            if (parent) expect(marks.get(parent)).not.toBe('remove');
          }
        }),
      );
    });

    it('does not depend on the order the backups are listed in', () => {
      fc.assert(
        fc.property(backupsArb, rulesArb, zoneArb, fc.integer(), (backups, rules, zone, seed) => {
          const shuffled = [...backups].sort(
            (a, b) => ((a.id.charCodeAt(1) * seed) % 7) - ((b.id.charCodeAt(1) * seed) % 7),
          );
          expect(markBackupsForPrune(shuffled, rules, zone)).toEqual(markBackupsForPrune(backups, rules, zone));
        }),
      );
    });
  });
});
