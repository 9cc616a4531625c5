import type { Role } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { UserEntity } from '../entities/user.entity.js';
import { newId } from '../ids.js';
import { applyScope, type ReadScope } from '../scope.js';

export class UserRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(organizationId: string, email: string, role: Role): Promise<UserEntity> {
    return this.manager.save(this.manager.create(UserEntity, { id: newId(), organizationId, email, role }));
  }

  findById(scope: ReadScope, id: string): Promise<UserEntity | null> {
    return applyScope(this.manager.createQueryBuilder(UserEntity, 'u'), 'u', scope)
      .andWhere('u.id = :id', { id })
      .getOne();
  }

  /** The user with this address in one organization (addresses are unique per organization only). */
  findByEmail(organizationId: string, email: string): Promise<UserEntity | null> {
    return this.manager.findOneBy(UserEntity, { organizationId, email });
  }

  /** Changes a user's role or disabled flag; the row as it is now. */
  async update(id: string, changes: { role?: Role; disabled?: boolean }): Promise<UserEntity> {
    await this.manager.update(UserEntity, { id }, changes);
    return this.manager.findOneByOrFail(UserEntity, { id });
  }

  /**
   * Removes a user; its tokens go with it (ON DELETE CASCADE). Jobs and events keep the id as a plain
   * column (no foreign key), so the history still says who did what.
   */
  async delete(id: string): Promise<boolean> {
    const result = await this.manager.delete(UserEntity, { id });
    return (result.affected ?? 0) > 0;
  }

  /** Locks a user's row for the rest of the transaction (two admins changing one user take turns). */
  findForUpdate(scope: ReadScope, id: string): Promise<UserEntity | null> {
    return applyScope(this.manager.createQueryBuilder(UserEntity, 'u'), 'u', scope)
      .andWhere('u.id = :id', { id })
      .setLock('pessimistic_write')
      .getOne();
  }
}
