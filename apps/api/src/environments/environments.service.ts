import { Injectable } from '@nestjs/common';
import { conflict, notFound } from '@snapdeck/domain';
import { Database, type EnvironmentEntity, type Page, type PageRequest } from '@snapdeck/persistence';
import { readScope, writeScope, type Principal } from '../auth/principal.js';
import { isUniqueViolation } from '../common/database-errors.js';
import type { CreateEnvironmentInput } from './dto/create-environment.input.js';

@Injectable()
export class EnvironmentsService {
  constructor(private readonly db: Database) {}

  async create(principal: Principal, input: CreateEnvironmentInput): Promise<EnvironmentEntity> {
    const organizationId = input.organizationId ?? principal.organizationId;
    const scope = writeScope(principal);
    if (scope.kind === 'organization' && scope.organizationId !== organizationId)
      throw notFound('Organization', organizationId);
    if (!(await this.db.repos.organizations.findById(organizationId))) throw notFound('Organization', organizationId);
    try {
      // A transaction of its own, as every mutation's write: a request's Idempotency-Key commits with it.
      return await this.db.transaction((tx) => tx.environments.create(organizationId, input.name));
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`An environment named ${input.name} exists already`);
      throw error;
    }
  }

  list(principal: Principal, page: PageRequest): Promise<Page<EnvironmentEntity>> {
    return this.db.repos.environments.list(readScope(principal), page);
  }
}
