import type { Role } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { ApiTokenEntity } from '../entities/api-token.entity.js';
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

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<UserEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return applyScope(this.manager.createQueryBuilder(UserEntity, 'u'), 'u', scope)
      .andWhere('u.id IN (:...ids)', { ids })
      .getMany();
  }

  /** Authentication: the user behind a token hash, across every organization (the caller is not known yet). */
  findByTokenHash(tokenHash: string): Promise<UserEntity | null> {
    return this.manager
      .createQueryBuilder(UserEntity, 'u')
      .innerJoin(ApiTokenEntity, 't', 't.user_id = u.id')
      .where('t.token_hash = :tokenHash', { tokenHash })
      .getOne();
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.manager.findOneBy(UserEntity, { email });
  }
}
