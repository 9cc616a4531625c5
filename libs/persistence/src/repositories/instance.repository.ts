import { instanceMachine, type InstanceState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { InstanceEntity } from '../entities/instance.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { conditionalRemove, conditionalTransition } from '../transition.js';

export interface InstanceFilter {
  environmentId?: string | null;
}

export interface NewInstance {
  organizationId: string;
  environmentId: string;
  hostId: string;
  name: string;
  state: InstanceState;
  /** Default 1 and 512 (the columns' defaults). */
  cpuCount?: number;
  memoryMiB?: number;
}

export class InstanceRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(values: NewInstance): Promise<InstanceEntity> {
    return this.manager.save(this.manager.create(InstanceEntity, { id: newId(), ...values }));
  }

  findById(scope: ReadScope, id: string): Promise<InstanceEntity | null> {
    return this.scoped(scope).andWhere('i.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<InstanceEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('i.id IN (:...ids)', { ids }).getMany();
  }

  list(scope: ReadScope, filter: InstanceFilter, page: PageRequest): Promise<Page<InstanceEntity>> {
    const qb = this.scoped(scope);
    if (filter.environmentId) qb.andWhere('i.environment_id = :environmentId', { environmentId: filter.environmentId });
    return paginate(qb, 'i', page);
  }

  transition(id: string, from: readonly InstanceState[], to: InstanceState): Promise<boolean> {
    return conditionalTransition(this.manager, InstanceEntity, instanceMachine, id, from, to);
  }

  /**
   * Locks one instance row for the rest of the transaction and reads it as committed now. An operation on the
   * whole instance (start, stop, instance snapshots, destroy) takes it `update`; an operation on one of its
   * volumes that depends on the instance's state (a snapshot, a revert) takes it `share`. So a volume check
   * and an instance change never pass each other unseen.
   */
  lock(id: string, mode: 'share' | 'update'): Promise<InstanceEntity | null> {
    return this.manager
      .createQueryBuilder(InstanceEntity, 'i')
      .setLock(mode === 'share' ? 'pessimistic_read' : 'pessimistic_write')
      .where('i.id = :id', { id })
      .getOne();
  }

  async remove(id: string, fromState: InstanceState): Promise<boolean> {
    return (await conditionalRemove(this.manager, InstanceEntity, [id], [fromState])) === 1;
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(InstanceEntity, 'i'), 'i', scope);
  }
}
