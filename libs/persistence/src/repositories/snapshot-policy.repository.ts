import type { PolicyRunStatus } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { SnapshotPolicyEntity } from '../entities/snapshot-policy.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';

export interface SnapshotPolicyFilter {
  volumeId?: string | null;
  instanceId?: string | null;
  environmentId?: string | null;
}

export interface NewSnapshotPolicy {
  organizationId: string;
  volumeId: string;
  schedule: string;
  timezone: string;
  keep: number;
  enabled: boolean;
  notify: string[];
  nextRunAt: Date;
}

export type SnapshotPolicyChanges = Partial<
  Pick<
    SnapshotPolicyEntity,
    'schedule' | 'timezone' | 'keep' | 'enabled' | 'notify' | 'nextRunAt' | 'retryOf' | 'lastRunAt' | 'lastError'
  > & { lastStatus: PolicyRunStatus | null }
>;

export class SnapshotPolicyRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(values: NewSnapshotPolicy): Promise<SnapshotPolicyEntity> {
    return this.manager.save(
      this.manager.create(SnapshotPolicyEntity, {
        id: newId(),
        retryOf: null,
        lastRunAt: null,
        lastStatus: null,
        lastError: null,
        ...values,
      }),
    );
  }

  findById(scope: ReadScope, id: string): Promise<SnapshotPolicyEntity | null> {
    return this.scoped(scope).andWhere('p.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<SnapshotPolicyEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('p.id IN (:...ids)', { ids }).getMany();
  }

  findByVolumeIds(scope: ReadScope, volumeIds: readonly string[]): Promise<SnapshotPolicyEntity[]> {
    if (volumeIds.length === 0) return Promise.resolve([]);
    return this.scoped(scope)
      .andWhere('p.volume_id IN (:...volumeIds)', { volumeIds })
      .orderBy('p.id', 'DESC')
      .getMany();
  }

  /** The instance and environment are the volume's, as they are now. */
  list(scope: ReadScope, filter: SnapshotPolicyFilter, page: PageRequest): Promise<Page<SnapshotPolicyEntity>> {
    const qb = this.scoped(scope);
    if (filter.volumeId) qb.andWhere('p.volume_id = :volumeId', { volumeId: filter.volumeId });
    if (filter.instanceId || filter.environmentId) {
      const sub = this.manager.createQueryBuilder().select('v.id').from('volumes', 'v');
      if (filter.instanceId) sub.andWhere('v.instance_id = :instanceId');
      if (filter.environmentId) sub.andWhere('v.environment_id = :environmentId');
      qb.andWhere(`p.volume_id IN (${sub.getQuery()})`, {
        instanceId: filter.instanceId,
        environmentId: filter.environmentId,
      });
    }
    return paginate(qb, 'p', page);
  }

  /** Locks the row for the rest of the transaction (an update or delete racing the scheduler waits). */
  lock(id: string): Promise<SnapshotPolicyEntity | null> {
    return this.manager
      .createQueryBuilder(SnapshotPolicyEntity, 'p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id })
      .getOne();
  }

  async update(id: string, changes: SnapshotPolicyChanges): Promise<void> {
    await this.manager.update(SnapshotPolicyEntity, { id }, changes);
  }

  async remove(id: string): Promise<boolean> {
    return ((await this.manager.delete(SnapshotPolicyEntity, { id })).affected ?? 0) === 1;
  }

  /** The policies of volumes being removed (the foreign key would cascade; this takes their locks first). */
  async removeByVolumeIds(volumeIds: readonly string[]): Promise<void> {
    if (volumeIds.length === 0) return;
    await this.manager
      .createQueryBuilder()
      .delete()
      .from(SnapshotPolicyEntity)
      .where('volume_id IN (:...volumeIds)', { volumeIds })
      .execute();
  }

  /**
   * The earliest time any enabled policy is due: what the scheduler's idle poll asks (one probe of the partial
   * index idx_snapshot_policies_due, whatever the number of policies).
   */
  async earliestDue(): Promise<Date | null> {
    const [row] = await this.manager.query<Array<{ at: Date | null }>>(
      'SELECT min(next_run_at) AS at FROM snapshot_policies WHERE enabled',
    );
    return row?.at ?? null;
  }

  /**
   * Up to `limit` enabled policies due at `now`, locked until commit and skipped by every other scheduler
   * meanwhile (FOR UPDATE SKIP LOCKED): replicas share a burst of due policies instead of queueing on it.
   */
  claimDue(now: Date, limit: number): Promise<SnapshotPolicyEntity[]> {
    return this.manager
      .createQueryBuilder(SnapshotPolicyEntity, 'p')
      .where('p.enabled')
      .andWhere('p.next_run_at <= :now', { now })
      .orderBy('p.next_run_at', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(SnapshotPolicyEntity, 'p'), 'p', scope);
  }
}
