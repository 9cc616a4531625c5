import { backupMachine, BackupState, type BackupCompression, type BackupMode } from '@snapdeck/domain';
import { JobName } from '@snapdeck/contracts';
import type { EntityManager } from 'typeorm';
import { BackupEntity, type BackupConfiguration } from '../entities/backup.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { conditionalRemove, conditionalTransition } from '../transition.js';

export interface BackupFilter {
  instanceId?: string | null;
  environmentId?: string | null;
  storageId?: string | null;
}

export interface NewBackup {
  id?: string;
  organizationId: string;
  environmentId: string;
  instanceId: string;
  instanceName: string;
  hostId: string;
  storageId: string;
  name: string;
  mode: BackupMode;
  compression: BackupCompression;
  incremental: boolean;
  parentId: string | null;
  chainLength: number;
  fullReason: string | null;
  configuration: BackupConfiguration;
  notify: string[];
  jobId: string;
  scheduleId?: string | null;
}

export type BackupChanges = Partial<
  Pick<
    BackupEntity,
    | 'error'
    | 'completedAt'
    | 'sizeBytes'
    | 'configuration'
    | 'jobId'
    | 'incremental'
    | 'parentId'
    | 'chainLength'
    | 'fullReason'
  >
>;

export class BackupRepository {
  constructor(private readonly manager: EntityManager) {}

  create(values: NewBackup): Promise<BackupEntity> {
    return this.manager.save(
      this.manager.create(BackupEntity, {
        state: BackupState.CREATING,
        sizeBytes: null,
        error: null,
        completedAt: null,
        scheduleId: null,
        ...values,
        id: values.id ?? newId(),
      }),
    );
  }

  findById(scope: ReadScope, id: string): Promise<BackupEntity | null> {
    return this.scoped(scope).andWhere('b.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<BackupEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('b.id IN (:...ids)', { ids }).getMany();
  }

  /** Newest first, keyset over (filter column, id): each filter has its index. */
  list(scope: ReadScope, filter: BackupFilter, page: PageRequest): Promise<Page<BackupEntity>> {
    const qb = this.scoped(scope);
    if (filter.instanceId) qb.andWhere('b.instance_id = :instanceId', { instanceId: filter.instanceId });
    if (filter.environmentId) qb.andWhere('b.environment_id = :environmentId', { environmentId: filter.environmentId });
    if (filter.storageId) qb.andWhere('b.storage_id = :storageId', { storageId: filter.storageId });
    return paginate(qb, 'b', page);
  }

  /** The backup of an instance being written now, if any (internal: the caller has locked the instance). */
  findCreatingOfInstance(instanceId: string): Promise<BackupEntity | null> {
    return this.manager.findOne(BackupEntity, { where: { instanceId, state: BackupState.CREATING } });
  }

  /** The newest READY backup of an instance on one storage: an incremental's parent. */
  findLatestReady(instanceId: string, storageId: string): Promise<BackupEntity | null> {
    return this.manager.findOne(BackupEntity, {
      where: { instanceId, storageId, state: BackupState.READY },
      order: { id: 'DESC' },
    });
  }

  /** The incrementals written on each of these backups, oldest first (idx_backups_parent). */
  findChildrenOfMany(scope: ReadScope, parentIds: readonly string[]): Promise<BackupEntity[]> {
    if (parentIds.length === 0) return Promise.resolve([]);
    return this.scoped(scope)
      .andWhere('b.parent_id IN (:...parentIds)', { parentIds })
      .orderBy('b.id', 'ASC')
      .getMany();
  }

  /** The backups whose parent this one is (internal: the caller found the parent in its scope). */
  findChildren(parentId: string): Promise<BackupEntity[]> {
    return this.manager.find(BackupEntity, { where: { parentId }, order: { id: 'ASC' } });
  }

  /**
   * Whether an open RESTORE_BACKUP job reads this backup (as the one restored or as a parent of it): its files
   * must outlive the restore.
   */
  async isBeingRestored(backupId: string): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `SELECT 1 FROM jobs WHERE type = $1 AND status IN ('PENDING', 'RUNNING') AND payload->'chain' @> $2::jsonb LIMIT 1`,
      [JobName.RESTORE_BACKUP, JSON.stringify([{ backupId }])],
    );
    return rows.length > 0;
  }

  /** Names on one instance that start with `prefix`: what an automatic name must not repeat. */
  async namesOnInstanceStartingWith(instanceId: string, prefix: string): Promise<Set<string>> {
    const rows = await this.manager
      .createQueryBuilder(BackupEntity, 'b')
      .select('b.name', 'name')
      .where('b.instance_id = :instanceId', { instanceId })
      .andWhere(`b.name LIKE :pattern ESCAPE '\\'`, { pattern: `${prefix.replace(/[\\%_]/g, '\\$&')}%` })
      .getRawMany<{ name: string }>();
    return new Set(rows.map((r) => r.name));
  }

  /** Locks one row for the rest of the transaction and reads it as committed now (a delete or a restore). */
  lock(id: string, mode: 'share' | 'update'): Promise<BackupEntity | null> {
    return this.manager
      .createQueryBuilder(BackupEntity, 'b')
      .setLock(mode === 'share' ? 'pessimistic_read' : 'pessimistic_write')
      .where('b.id = :id', { id })
      .getOne();
  }

  transition(id: string, from: readonly BackupState[], to: BackupState, changes: BackupChanges = {}): Promise<boolean> {
    return conditionalTransition(this.manager, BackupEntity, backupMachine, id, from, to, changes);
  }

  /** Removes the row once its folder is gone; only from the given state. */
  async remove(id: string, fromState: BackupState): Promise<boolean> {
    return (await conditionalRemove(this.manager, BackupEntity, [id], [fromState])) === 1;
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(BackupEntity, 'b'), 'b', scope);
  }
}
