import { Injectable } from '@nestjs/common';
import { canGrantRole, conflict, forbidden, notFound } from '@snapdeck/domain';
import { Database, type ApiTokenEntity, type UserEntity } from '@snapdeck/persistence';
import { writeScope, type Principal } from '../auth/principal.js';
import { generateTokenSecret, hashToken } from '../auth/token.js';
import { isUniqueViolation } from '../common/database-errors.js';
import type { CreateApiTokenInput } from './dto/create-api-token.input.js';
import type { CreateUserInput } from './dto/create-user.input.js';

@Injectable()
export class UsersService {
  constructor(private readonly db: Database) {}

  async createUser(principal: Principal, input: CreateUserInput): Promise<UserEntity> {
    const scope = writeScope(principal);
    if (scope.kind === 'organization' && scope.organizationId !== input.organizationId) {
      throw notFound('Organization', input.organizationId);
    }
    if (!canGrantRole(principal.role, input.role))
      throw forbidden(`Your role (${principal.role}) may not grant ${input.role}`);
    const organization = await this.db.repos.organizations.findById(input.organizationId);
    if (!organization) throw notFound('Organization', input.organizationId);
    try {
      return await this.db.repos.users.create(organization.id, input.email.toLowerCase(), input.role);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A user with email ${input.email} exists already`);
      throw error;
    }
  }

  /** Mints a token for a user the caller manages; returns the secret, which is never stored. */
  async createApiToken(
    principal: Principal,
    input: CreateApiTokenInput,
  ): Promise<{ token: string; apiToken: ApiTokenEntity }> {
    const user = await this.db.repos.users.findById(writeScope(principal), input.userId);
    if (!user) throw notFound('User', input.userId);
    // A token acts as its user: minting one for a role the caller could not grant would be an escalation.
    if (user.id !== principal.userId && !canGrantRole(principal.role, user.role)) {
      throw forbidden(`Your role (${principal.role}) may not mint tokens for a ${user.role}`);
    }
    const token = generateTokenSecret();
    const apiToken = await this.db.repos.apiTokens.create(user.id, input.name, hashToken(token));
    return { token, apiToken };
  }
}
