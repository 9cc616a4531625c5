import { volumeMachine, type VolumeState, type VolumeType } from '@snapdeck/domain';
import { In, type EntityManager } from 'typeorm';
import { VolumeEntity } from '../entities/volume.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';
import { conditionalRemove, conditionalTransition, conditionalTransitionMany } from '../transition.js';

export interface VolumeFilter {
  environmentId?: string | null;
  instanceId?: string | null;
  type?: VolumeType | null;
}

export interface NewVolume {
  organizationId: string;
  environmentId: string;
  instanceId: string | null;
  hostId: string;
  name: string;
  type: VolumeType;
  state: VolumeState;
  sizeGiB: number;
  sourceSnapshotId?: string | null;
  sourceTemplateId?: string | null;
}

export class VolumeRepository {
  constructor(private readonly manager: EntityManager) {}

  async createMany(values: readonly NewVolume[]): Promise<VolumeEntity[]> {
    const volumes = values.map((v) =>
      this.manager.create(VolumeEntity, { id: newId(), sourceSnapshotId: null, sourceTemplateId: null, ...v }),
    );
    return this.manager.save(volumes);
  }

  findById(scope: ReadScope, id: string): Promise<VolumeEntity | null> {
    return this.scoped(scope).andWhere('v.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<VolumeEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('v.id IN (:...ids)', { ids }).getMany();
  }

  /** Volumes of many instances in one query, ROOT first then by creation (for DataLoader). */
  findByInstanceIds(scope: ReadScope, instanceIds: readonly string[]): Promise<VolumeEntity[]> {
    if (instanceIds.length === 0) return Promise.resolve([]);
    return this.scoped(scope)
      .andWhere('v.instance_id IN (:...instanceIds)', { instanceIds })
      .orderBy('v.id', 'ASC')
      .getMany();
  }

  list(scope: ReadScope, filter: VolumeFilter, page: PageRequest): Promise<Page<VolumeEntity>> {
    const qb = this.scoped(scope);
    if (filter.environmentId) qb.andWhere('v.environment_id = :environmentId', { environmentId: filter.environmentId });
    if (filter.instanceId) qb.andWhere('v.instance_id = :instanceId', { instanceId: filter.instanceId });
    if (filter.type) qb.andWhere('v.type = :type', { type: filter.type });
    return paginate(qb, 'v', page);
  }

  transition(id: string, from: readonly VolumeState[], to: VolumeState): Promise<boolean> {
    return conditionalTransition(this.manager, VolumeEntity, volumeMachine, id, from, to);
  }

  /** A revert or an in-place restore rewrote them (see VolumeEntity.contentsReplacedAt). */
  async markContentsReplaced(ids: readonly string[], at: Date): Promise<void> {
    if (ids.length > 0) await this.manager.update(VolumeEntity, { id: In([...ids]) }, { contentsReplacedAt: at });
  }

  /** Moves several volumes at once (an instance's volumes after one job); returns how many moved. */
  transitionMany(ids: readonly string[], from: readonly VolumeState[], to: VolumeState): Promise<number> {
    return conditionalTransitionMany(this.manager, VolumeEntity, volumeMachine, ids, from, to);
  }

  /** Copies still being made from a snapshot or template: their source must not be deleted yet. */
  existsCreatingFrom(source: { snapshotId?: string; templateId?: string }, creating: VolumeState): Promise<boolean> {
    const where = source.snapshotId ? { sourceSnapshotId: source.snapshotId } : { sourceTemplateId: source.templateId };
    return this.manager.existsBy(VolumeEntity, { ...where, state: creating });
  }

  /** Every volume of one instance (internal: the caller has checked the instance is the caller's). */
  findByInstance(instanceId: string): Promise<VolumeEntity[]> {
    return this.manager.find(VolumeEntity, { where: { instanceId }, order: { id: 'ASC' } });
  }

  removeMany(ids: readonly string[]): Promise<number> {
    return conditionalRemove(this.manager, VolumeEntity, ids);
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(VolumeEntity, 'v'), 'v', scope);
  }
}
