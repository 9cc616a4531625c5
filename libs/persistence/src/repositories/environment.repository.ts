import type { EntityManager } from 'typeorm';
import { EnvironmentEntity } from '../entities/environment.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { applyScope, type ReadScope } from '../scope.js';

export class EnvironmentRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(organizationId: string, name: string): Promise<EnvironmentEntity> {
    return this.manager.save(this.manager.create(EnvironmentEntity, { id: newId(), organizationId, name }));
  }

  findById(scope: ReadScope, id: string): Promise<EnvironmentEntity | null> {
    return this.scoped(scope).andWhere('e.id = :id', { id }).getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<EnvironmentEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.scoped(scope).andWhere('e.id IN (:...ids)', { ids }).getMany();
  }

  list(scope: ReadScope, page: PageRequest): Promise<Page<EnvironmentEntity>> {
    return paginate(this.scoped(scope), 'e', page);
  }

  private scoped(scope: ReadScope) {
    return applyScope(this.manager.createQueryBuilder(EnvironmentEntity, 'e'), 'e', scope);
  }
}
