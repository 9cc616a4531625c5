import type { EntityManager } from 'typeorm';
import { ApiTokenEntity } from '../entities/api-token.entity.js';
import { newId } from '../ids.js';

export class ApiTokenRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(userId: string, name: string, tokenHash: string): Promise<ApiTokenEntity> {
    return this.manager.save(this.manager.create(ApiTokenEntity, { id: newId(), userId, name, tokenHash }));
  }

  findByHash(tokenHash: string): Promise<ApiTokenEntity | null> {
    return this.manager.findOneBy(ApiTokenEntity, { tokenHash });
  }
}
