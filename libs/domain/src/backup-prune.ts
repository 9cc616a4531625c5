import { DateTime } from 'luxon';

/** Proxmox's prune options (`prune-backups`): how many periods of each kind keep their newest backup. */
export interface PruneRules {
  keepLast?: number | null;
  keepHourly?: number | null;
  keepDaily?: number | null;
  keepWeekly?: number | null;
  keepMonthly?: number | null;
  keepYearly?: number | null;
}

export interface PrunableBackup {
  id: string;
  createdAt: Date;
  /** The backup an incremental is written on top of: it cannot be restored without it. */
  parentId: string | null;
}

/**
 * `keep`: a rule keeps it; `needed`: no rule does, but a kept incremental is written on top of it (removing it
 * would make that one unrestorable); `remove`: pruned.
 */
export type PruneMark = 'keep' | 'needed' | 'remove';

/**
 * The period a backup falls in for each rule, in the schedule's time zone (luxon formats: ISO week-year and week
 * for weekly, as Proxmox's `%G/%V`). keep-last's "period" is the backup itself.
 */
const PERIODS: ReadonlyArray<[keyof PruneRules, ((backup: PrunableBackup, zone: string) => string) | null]> = [
  ['keepLast', null],
  ['keepHourly', periodFormat('yyyy/MM/dd/HH')],
  ['keepDaily', periodFormat('yyyy/MM/dd')],
  ['keepWeekly', periodFormat('kkkk/WW')],
  ['keepMonthly', periodFormat('yyyy/MM')],
  ['keepYearly', periodFormat('yyyy')],
];

function periodFormat(format: string) {
  return (backup: PrunableBackup, zone: string) => DateTime.fromJSDate(backup.createdAt, { zone }).toFormat(format);
}

/**
 * Proxmox VE's prune selection (`PVE::Storage::prune_mark_backup_group`): backups newest first; each rule in turn
 * (last, hourly, daily, weekly, monthly, yearly) keeps the newest backup of each of its `n` most recent periods,
 * skipping periods that an earlier rule already covered; whatever no rule kept is removed. No rule with a positive
 * count keeps everything. Beyond Proxmox (whose backups are all full): a removed backup that a kept incremental
 * depends on, directly or through its chain, stays as `needed`.
 */
export function markBackupsForPrune(
  backups: readonly PrunableBackup[],
  rules: PruneRules,
  timeZone: string,
): Map<string, PruneMark> {
  const marks = new Map<string, PruneMark>();
  const active = PERIODS.filter(([rule]) => (rules[rule] ?? 0) > 0);
  if (active.length === 0) {
    for (const backup of backups) marks.set(backup.id, 'keep');
    return marks;
  }
  const newestFirst = [...backups].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1),
  );
  for (const [rule, periodOf] of active) {
    const keepCount = rules[rule]!;
    const period = (backup: PrunableBackup) => (periodOf ? periodOf(backup, timeZone) : backup.id);
    const alreadyCovered = new Set(newestFirst.filter((b) => marks.get(b.id) === 'keep').map(period));
    const covered = new Set<string>();
    for (const backup of newestFirst) {
      if (marks.has(backup.id)) continue;
      const id = period(backup);
      if (alreadyCovered.has(id)) continue;
      if (covered.has(id)) {
        marks.set(backup.id, 'remove');
        continue;
      }
      if (covered.size >= keepCount) break;
      covered.add(id);
      marks.set(backup.id, 'keep');
    }
  }
  for (const backup of newestFirst) if (!marks.has(backup.id)) marks.set(backup.id, 'remove');
  keepWhatKeptBackupsNeed(backups, marks);
  return marks;
}

function keepWhatKeptBackupsNeed(backups: readonly PrunableBackup[], marks: Map<string, PruneMark>): void {
  const parentOf = new Map(backups.map((b) => [b.id, b.parentId]));
  for (const backup of backups) {
    if (marks.get(backup.id) !== 'keep') continue;
    for (let parent = backup.parentId; parent && parentOf.has(parent); parent = parentOf.get(parent) ?? null) {
      if (marks.get(parent) === 'remove') marks.set(parent, 'needed');
    }
  }
}
