import type { EntityManager } from 'typeorm';
import { OrganizationEntity } from '../entities/organization.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';

/** Organizations are the tenants themselves: only platform staff list them. */
export class OrganizationRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(name: string): Promise<OrganizationEntity> {
    const organization = this.manager.create(OrganizationEntity, { id: newId(), name, snapshotLimit: null });
    return this.manager.save(organization);
  }

  findById(id: string): Promise<OrganizationEntity | null> {
    return this.manager.findOneBy(OrganizationEntity, { id });
  }

  findByName(name: string): Promise<OrganizationEntity | null> {
    return this.manager.findOneBy(OrganizationEntity, { name });
  }

  list(page: PageRequest): Promise<Page<OrganizationEntity>> {
    return paginate(this.manager.createQueryBuilder(OrganizationEntity, 'o'), 'o', page);
  }

  /** Serializes quota checks of one organization inside the caller's transaction. */
  async lockForQuota(id: string): Promise<OrganizationEntity | null> {
    return this.manager
      .createQueryBuilder(OrganizationEntity, 'o')
      .setLock('pessimistic_write')
      .where('o.id = :id', { id })
      .getOne();
  }

  async findByIds(ids: readonly string[]): Promise<OrganizationEntity[]> {
    if (ids.length === 0) return [];
    return this.manager.createQueryBuilder(OrganizationEntity, 'o').where('o.id IN (:...ids)', { ids }).getMany();
  }
}
