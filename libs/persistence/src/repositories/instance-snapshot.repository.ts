import { snapshotMachine, type SnapshotState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { InstanceSnapshotEntity, type InstanceSnapshotConfiguration } from '../entities/instance-snapshot.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { conditionalRemove, conditionalTransition, conditionalTransitionMany } from '../transition.js';

export interface InstanceSnapshotFilter {
  instanceId?: string | null;
}

export interface NewInstanceSnapshot {
  id?: string;
  organizationId: string;
  environmentId: string;
  instanceId: string;
  volumeIds: string[];
  name: string;
  description: string | null;
  state: SnapshotState;
  withMemory: boolean;
  lastJobId: string | null;
  configuration?: InstanceSnapshotConfiguration;
}

export type InstanceSnapshotChanges = Partial<
  Pick<InstanceSnapshotEntity, 'error' | 'completedAt' | 'lastJobId' | 'quiesced' | 'configuration'>
>;

/** Instance snapshots: every volume of an instance at one instant. */
export class InstanceSnapshotRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(values: NewInstanceSnapshot): Promise<InstanceSnapshotEntity> {
    return this.manager.save(
      this.manager.create(InstanceSnapshotEntity, {
        quiesced: false,
        error: null,
        completedAt: null,
        ...values,
        id: values.id ?? newId(),
      }),
    );
  }

  findById(scope: ReadScope, id: string): Promise<InstanceSnapshotEntity | null> {
    return this.scoped(scope).andWhere('r.id = :id', { id }).getOne();
  }

  /**
   * With each row's instance read in the same statement: destroying an instance removes its recovery points in
   * the same commit, so a second read for the instance could find it gone while the list still shows them.
   */
  list(scope: ReadScope, filter: InstanceSnapshotFilter, page: PageRequest): Promise<Page<InstanceSnapshotEntity>> {
    const qb = this.scoped(scope).leftJoinAndSelect('r.instance', 'instance');
    if (filter.instanceId) qb.andWhere('r.instance_id = :instanceId', { instanceId: filter.instanceId });
    return paginate(qb, 'r', page);
  }

  /** Every instance snapshot of one instance (internal: the caller has checked the instance is the caller's). */
  findByInstance(instanceId: string): Promise<InstanceSnapshotEntity[]> {
    return this.manager.find(InstanceSnapshotEntity, { where: { instanceId }, order: { id: 'ASC' } });
  }

  /** Names on one instance that start with `prefix`: what an automatic name must not repeat. */
  async namesOnInstanceStartingWith(instanceId: string, prefix: string): Promise<Set<string>> {
    const rows = await this.manager
      .createQueryBuilder(InstanceSnapshotEntity, 'r')
      .select('r.name', 'name')
      .where('r.instance_id = :instanceId', { instanceId })
      .andWhere(`r.name LIKE :pattern ESCAPE '\\'`, { pattern: `${prefix.replace(/[\\%_]/g, '\\$&')}%` })
      .getRawMany<{ name: string }>();
    return new Set(rows.map((r) => r.name));
  }

  /** Locks one row for the rest of the transaction and reads it as committed now (a delete or a revert). */
  lock(id: string): Promise<InstanceSnapshotEntity | null> {
    return this.manager
      .createQueryBuilder(InstanceSnapshotEntity, 'r')
      .setLock('pessimistic_write')
      .where('r.id = :id', { id })
      .getOne();
  }

  transition(
    id: string,
    from: readonly SnapshotState[],
    to: SnapshotState,
    changes: InstanceSnapshotChanges = {},
  ): Promise<boolean> {
    return conditionalTransition(this.manager, InstanceSnapshotEntity, snapshotMachine, id, from, to, changes);
  }

  transitionMany(ids: readonly string[], from: readonly SnapshotState[], to: SnapshotState): Promise<number> {
    return conditionalTransitionMany(this.manager, InstanceSnapshotEntity, snapshotMachine, ids, from, to);
  }

  /** Removes the row once the hypervisor no longer holds the instance snapshot; only from the given state. */
  async remove(id: string, fromState: SnapshotState): Promise<boolean> {
    return (await conditionalRemove(this.manager, InstanceSnapshotEntity, [id], [fromState])) === 1;
  }

  removeMany(ids: readonly string[]): Promise<number> {
    return conditionalRemove(this.manager, InstanceSnapshotEntity, ids);
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(InstanceSnapshotEntity, 'r'), 'r', scope);
  }
}
