import {
  BackupState,
  type BackupCompression,
  type BackupMode,
  type PolicyRunStatus,
  type PruneRules,
} from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { BackupEntity } from '../entities/backup.entity.js';
import {
  BackupScheduleEntity,
  BackupScheduleInstanceEntity,
  BackupScheduleRunEntity,
  type BackupScheduleRunResult,
} from '../entities/backup-schedule.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';

export interface NewBackupSchedule {
  organizationId: string;
  schedule: string;
  timezone: string;
  mode: BackupMode;
  compression: BackupCompression;
  incremental: boolean;
  storageId: string;
  notify: string[];
  retention: PruneRules;
  enabled: boolean;
  nextRunAt: Date;
}

export type BackupScheduleChanges = Partial<
  Pick<
    BackupScheduleEntity,
    'schedule' | 'timezone' | 'retention' | 'enabled' | 'notify' | 'nextRunAt' | 'retryOf' | 'lastRunAt' | 'lastError'
  > & { lastStatus: PolicyRunStatus | null }
>;

export interface NewBackupScheduleRun {
  scheduleId: string;
  organizationId: string;
  scheduledAt: Date;
  status: PolicyRunStatus;
  results?: BackupScheduleRunResult[];
  error?: string | null;
}

/** Backup schedules, their instances and their runs (one occurrence each). */
export class BackupScheduleRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(values: NewBackupSchedule, instanceIds: readonly string[]): Promise<BackupScheduleEntity> {
    const schedule = await this.manager.save(
      this.manager.create(BackupScheduleEntity, {
        id: newId(),
        retryOf: null,
        lastRunAt: null,
        lastStatus: null,
        lastError: null,
        ...values,
      }),
    );
    await this.manager.insert(
      BackupScheduleInstanceEntity,
      instanceIds.map((instanceId) => ({ scheduleId: schedule.id, instanceId })),
    );
    return schedule;
  }

  findById(scope: ReadScope, id: string): Promise<BackupScheduleEntity | null> {
    return this.scoped(scope).andWhere('s.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<BackupScheduleEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('s.id IN (:...ids)', { ids }).getMany();
  }

  list(scope: ReadScope, page: PageRequest): Promise<Page<BackupScheduleEntity>> {
    return paginate(this.scoped(scope), 's', page);
  }

  /** The ids of the instances it backs up now (destroyed ones have left), in id order. */
  async instanceIdsOf(scheduleId: string): Promise<string[]> {
    const rows = await this.manager.find(BackupScheduleInstanceEntity, {
      where: { scheduleId },
      order: { instanceId: 'ASC' },
    });
    return rows.map((r) => r.instanceId);
  }

  /** Instance ids per schedule, for a page of schedules (one query). */
  async instanceIdsOfMany(scheduleIds: readonly string[]): Promise<Map<string, string[]>> {
    const byId = new Map<string, string[]>(scheduleIds.map((id) => [id, []]));
    if (scheduleIds.length === 0) return byId;
    const rows = await this.manager
      .createQueryBuilder(BackupScheduleInstanceEntity, 'si')
      .where('si.schedule_id IN (:...scheduleIds)', { scheduleIds })
      .orderBy('si.instance_id', 'ASC')
      .getMany();
    for (const row of rows) byId.get(row.scheduleId)?.push(row.instanceId);
    return byId;
  }

  /** Locks the row for the rest of the transaction (an update or delete racing the scheduler waits). */
  lock(id: string): Promise<BackupScheduleEntity | null> {
    return this.manager
      .createQueryBuilder(BackupScheduleEntity, 's')
      .setLock('pessimistic_write')
      .where('s.id = :id', { id })
      .getOne();
  }

  async update(id: string, changes: BackupScheduleChanges): Promise<void> {
    await this.manager.update(BackupScheduleEntity, { id }, changes);
  }

  async remove(id: string): Promise<boolean> {
    return ((await this.manager.delete(BackupScheduleEntity, { id })).affected ?? 0) === 1;
  }

  /** The earliest time any enabled schedule is due (one probe of idx_backup_schedules_due). */
  async earliestDue(): Promise<Date | null> {
    const [row] = await this.manager.query<Array<{ at: Date | null }>>(
      'SELECT min(next_run_at) AS at FROM backup_schedules WHERE enabled',
    );
    return row?.at ?? null;
  }

  /** Up to `limit` enabled schedules due at `now`, locked until commit and skipped by every other scheduler. */
  claimDue(now: Date, limit: number): Promise<BackupScheduleEntity[]> {
    return this.manager
      .createQueryBuilder(BackupScheduleEntity, 's')
      .where('s.enabled')
      .andWhere('s.next_run_at <= :now', { now })
      .orderBy('s.next_run_at', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
  }

  /** Inserts the run of one occurrence; false (nothing inserted) when that occurrence has its run already. */
  async insertRunOnce(values: NewBackupScheduleRun): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(BackupScheduleRunEntity)
      .values({ id: newId(), results: [], error: null, attempts: 1, ...values })
      .orIgnore()
      .returning(['id'])
      .execute();
    return (result.raw as unknown[]).length === 1;
  }

  findRun(scheduleId: string, scheduledAt: Date): Promise<BackupScheduleRunEntity | null> {
    return this.manager.findOneBy(BackupScheduleRunEntity, { scheduleId, scheduledAt });
  }

  /** Every run of one schedule, oldest occurrence first. */
  runsOf(scheduleId: string): Promise<BackupScheduleRunEntity[]> {
    return this.manager.find(BackupScheduleRunEntity, { where: { scheduleId }, order: { scheduledAt: 'ASC' } });
  }

  async updateRun(
    id: string,
    changes: Partial<Pick<BackupScheduleRunEntity, 'status' | 'results' | 'attempts' | 'error'>>,
  ): Promise<void> {
    await this.manager.update(BackupScheduleRunEntity, { id }, changes);
  }

  /** The schedule's own READY backups of one instance: what its prune rules choose from (never a manual one). */
  readyBackupsOf(scheduleId: string, instanceId: string): Promise<BackupEntity[]> {
    return this.manager.find(BackupEntity, {
      where: { scheduleId, instanceId, state: BackupState.READY },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  /**
   * (schedule, instance) pairs of enabled schedules holding more than one READY backup: what the periodic prune
   * pass looks at again, so a delete that failed is retried.
   */
  async prunablePairs(limit: number): Promise<Array<{ scheduleId: string; instanceId: string }>> {
    return this.manager.query(
      `SELECT b.schedule_id AS "scheduleId", b.instance_id AS "instanceId"
         FROM backups b JOIN backup_schedules s ON s.id = b.schedule_id
        WHERE s.enabled AND b.state = $1 AND b.instance_id IS NOT NULL
        GROUP BY b.schedule_id, b.instance_id HAVING count(*) > 1
        ORDER BY count(*) DESC LIMIT $2`,
      [BackupState.READY, limit],
    );
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(BackupScheduleEntity, 's'), 's', scope);
  }
}
