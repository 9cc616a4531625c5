import { snapshotMachine, SnapshotState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { SnapshotEntity } from '../entities/snapshot.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { conditionalRemove, conditionalTransition, conditionalTransitionMany } from '../transition.js';

export interface SnapshotFilter {
  environmentId?: string | null;
  instanceId?: string | null;
  volumeId?: string | null;
  states?: readonly SnapshotState[] | null;
}

export interface NewSnapshot {
  organizationId: string;
  environmentId: string;
  volumeId: string;
  instanceId: string | null;
  name: string;
  description: string | null;
  state: SnapshotState;
  lastJobId: string | null;
  /** The policy whose occurrence takes it (absent: by hand). */
  policyId?: string | null;
  /** A safety snapshot the in-place restore of this backup waits for (absent: none). */
  pendingRestoreBackupId?: string | null;
}

export type SnapshotChanges = Partial<Pick<SnapshotEntity, 'error' | 'completedAt' | 'lastJobId' | 'quiesced'>>;

export class SnapshotRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(values: NewSnapshot & { id?: string }): Promise<SnapshotEntity> {
    return this.manager.save(
      this.manager.create(SnapshotEntity, {
        id: values.id ?? newId(),
        error: null,
        policyId: null,
        pendingRestoreBackupId: null,
        ...values,
      }),
    );
  }

  findById(scope: ReadScope, id: string): Promise<SnapshotEntity | null> {
    return this.scoped(scope).andWhere('s.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<SnapshotEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('s.id IN (:...ids)', { ids }).getMany();
  }

  list(scope: ReadScope, filter: SnapshotFilter, page: PageRequest): Promise<Page<SnapshotEntity>> {
    const qb = this.scoped(scope);
    if (filter.environmentId) qb.andWhere('s.environment_id = :environmentId', { environmentId: filter.environmentId });
    if (filter.instanceId) qb.andWhere('s.instance_id = :instanceId', { instanceId: filter.instanceId });
    if (filter.volumeId) qb.andWhere('s.volume_id = :volumeId', { volumeId: filter.volumeId });
    if (filter.states && filter.states.length > 0) qb.andWhere('s.state IN (:...states)', { states: filter.states });
    return paginate(qb, 's', page);
  }

  /** Names on one volume that start with `prefix`: what an automatic name must not repeat. */
  async namesOnVolumeStartingWith(volumeId: string, prefix: string): Promise<Set<string>> {
    const rows = await this.manager
      .createQueryBuilder(SnapshotEntity, 's')
      .select('s.name', 'name')
      .where('s.volume_id = :volumeId', { volumeId })
      .andWhere(`s.name LIKE :pattern ESCAPE '\\'`, { pattern: `${prefix.replace(/[\\%_]/g, '\\$&')}%` })
      .getRawMany<{ name: string }>();
    return new Set(rows.map((r) => r.name));
  }

  /**
   * How many snapshots are in each state across every organization (states with none are absent): platform
   * metrics, not tenant data, so no organization filter. One GROUP BY for the metrics scrape.
   */
  async countByState(): Promise<Map<SnapshotState, number>> {
    const rows: Array<{ state: SnapshotState; count: string }> = await this.manager.query(
      `SELECT state, COUNT(*) AS count FROM snapshots GROUP BY state`,
    );
    return new Map(rows.map((r) => [r.state, Number(r.count)]));
  }

  transition(
    id: string,
    from: readonly SnapshotState[],
    to: SnapshotState,
    changes: SnapshotChanges = {},
  ): Promise<boolean> {
    return conditionalTransition(this.manager, SnapshotEntity, snapshotMachine, id, from, to, changes);
  }

  /** Removes the row once the disk no longer holds the snapshot; only from the given state. */
  async remove(id: string, fromState: SnapshotState): Promise<boolean> {
    return (await conditionalRemove(this.manager, SnapshotEntity, [id], [fromState])) === 1;
  }

  /**
   * Locks one snapshot row for the rest of the transaction and reads it as committed now: `share` for a copy
   * that needs it to stay, `update` for a delete. The two exclude each other, so a copy and the removal of
   * its source cannot both be accepted.
   */
  lock(id: string, mode: 'share' | 'update'): Promise<SnapshotEntity | null> {
    return this.manager
      .createQueryBuilder(SnapshotEntity, 's')
      .setLock(mode === 'share' ? 'pessimistic_read' : 'pessimistic_write')
      .where('s.id = :id', { id })
      .getOne();
  }

  /**
   * What a policy's retention deletes: its own COMPLETED, unprotected snapshots beyond the newest `keep`, oldest
   * first. Protected ones are neither counted nor returned; with keep ≥ 1 the newest is never among them.
   */
  async beyondKeep(policyId: string, keep: number): Promise<SnapshotEntity[]> {
    const rows = await this.manager
      .createQueryBuilder(SnapshotEntity, 's')
      .where('s.policy_id = :policyId', { policyId })
      .andWhere('s.state = :state', { state: SnapshotState.COMPLETED })
      .andWhere('NOT s.protected')
      .orderBy('s.completed_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .offset(keep)
      .getMany();
    return rows.reverse();
  }

  /**
   * Enabled policies that hold more COMPLETED unprotected snapshots than they keep: the periodic pass's one
   * query (over idx_snapshots_policy), so a delete that failed is tried again.
   */
  async policiesBeyondKeep(limit: number): Promise<Array<{ policyId: string; keep: number }>> {
    const rows = await this.manager.query<Array<{ policy_id: string; keep: number }>>(
      `SELECT s.policy_id, p.keep FROM snapshots s JOIN snapshot_policies p ON p.id = s.policy_id
        WHERE p.enabled AND s.state = $1 AND NOT s.protected
        GROUP BY s.policy_id, p.keep HAVING count(*) > p.keep LIMIT $2`,
      [SnapshotState.COMPLETED, limit],
    );
    return rows.map((r) => ({ policyId: r.policy_id, keep: r.keep }));
  }

  /** Protection is a flag, not a state: it may change in any state but DESTROYING (checked by the caller). */
  async setProtected(id: string, value: boolean): Promise<void> {
    await this.manager.update(SnapshotEntity, { id }, { protected: value });
  }

  /** Every snapshot of some volumes (internal: the caller has checked the volumes are the caller's). */
  findByVolumeIds(volumeIds: readonly string[]): Promise<SnapshotEntity[]> {
    if (volumeIds.length === 0) return Promise.resolve([]);
    return this.manager
      .createQueryBuilder(SnapshotEntity, 's')
      .where('s.volume_id IN (:...volumeIds)', { volumeIds })
      .orderBy('s.id', 'ASC')
      .getMany();
  }

  /** The safety snapshots an in-place restore of `backupId` over `instanceId` waits for (internal: orchestration). */
  findPendingRestore(backupId: string, instanceId: string): Promise<SnapshotEntity[]> {
    return this.manager.find(SnapshotEntity, {
      where: { pendingRestoreBackupId: backupId, instanceId },
      order: { id: 'ASC' },
    });
  }

  /** Whether an in-place restore of `backupId` waits for its safety snapshots. */
  async hasPendingRestore(backupId: string): Promise<boolean> {
    return this.manager.exists(SnapshotEntity, { where: { pendingRestoreBackupId: backupId } });
  }

  /** The restore has started or was given up: these snapshots are ordinary ones from now on. */
  async clearPendingRestore(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.manager
      .createQueryBuilder()
      .update(SnapshotEntity)
      .set({ pendingRestoreBackupId: null })
      .where('id IN (:...ids)', { ids })
      .execute();
  }

  transitionMany(ids: readonly string[], from: readonly SnapshotState[], to: SnapshotState): Promise<number> {
    return conditionalTransitionMany(this.manager, SnapshotEntity, snapshotMachine, ids, from, to);
  }

  removeMany(ids: readonly string[]): Promise<number> {
    return conditionalRemove(this.manager, SnapshotEntity, ids);
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(SnapshotEntity, 's'), 's', scope);
  }
}
