import { Injectable } from '@nestjs/common';
import {
  EventType,
  canGrantRole,
  canManageUser,
  conflict,
  forbidden,
  notFound,
  preconditionFailed,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  type ApiTokenEntity,
  type Page,
  type PageRequest,
  type Repositories,
  type UserEntity,
} from '@snapdeck/persistence';
import { tokenScope, writeScope, type Principal } from '../auth/principal.js';
import { generateTokenSecret, hashToken } from '../auth/token.js';
import { isUniqueViolation } from '../common/database-errors.js';
import type { CreateApiTokenInput } from './dto/create-api-token.input.js';
import type { CreateUserInput } from './dto/create-user.input.js';
import type { DeleteUserInput, UpdateUserInput } from './dto/user-changes.input.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Users and their tokens. Who may act on whom: a platform administrator on anyone; an organization
 * administrator within its organization on users strictly below its own role (MEMBER, READ_ONLY), never on
 * a peer ORG_ADMIN (`canManageUser`); anyone on their own tokens. Another organization's user or token is
 * NOT_FOUND. Every change is an Event, written in the transaction of the change.
 */
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
    const email = input.email.toLowerCase();
    try {
      return await this.db.transaction(async (tx) => {
        const user = await tx.users.create(organization.id, email, input.role);
        await this.record(tx, principal, user, EventType.USER_CREATED, `User ${email} created as ${user.role}`, {
          email,
          role: user.role,
        });
        return user;
      });
    } catch (error) {
      // Addresses are unique per organization: this says only that the caller's own organization has it.
      if (isUniqueViolation(error)) throw conflict(`A user with email ${email} exists already in this organization`);
      throw error;
    }
  }

  /** Mints a token for a user the caller manages, or for itself; returns the secret, which is never stored. */
  async createApiToken(
    principal: Principal,
    input: CreateApiTokenInput,
  ): Promise<{ token: string; apiToken: ApiTokenEntity }> {
    const user = await this.db.repos.users.findById(writeScope(principal), input.userId);
    if (!user) throw notFound('User', input.userId);
    // A token acts as its user: minting one for a peer ORG_ADMIN would let the caller act as that peer.
    if (user.id !== principal.userId && !canManageUser(principal.role, user.role)) {
      throw forbidden(`Your role (${principal.role}) may not mint tokens for a ${user.role}`);
    }
    if (user.disabled) throw preconditionFailed(`User ${user.id} is disabled: enable it before minting a token`);
    const token = generateTokenSecret();
    const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null;
    const apiToken = await this.db.transaction(async (tx) => {
      const created = await tx.apiTokens.create(user.id, input.name, hashToken(token), expiresAt);
      await this.record(
        tx,
        principal,
        user,
        EventType.API_TOKEN_CREATED,
        `Token ${input.name} created for ${user.email}`,
        { userId: user.id, name: input.name, expiresAt: expiresAt?.toISOString() ?? null },
        { resourceType: 'ApiToken', resourceId: created.id },
      );
      return created;
    });
    return { token, apiToken };
  }

  listApiTokens(principal: Principal, page: PageRequest): Promise<Page<ApiTokenEntity>> {
    return this.db.repos.apiTokens.list(tokenScope(principal), page);
  }

  /** Revokes a token the caller sees and manages; revoking a revoked token changes nothing. */
  async revokeApiToken(principal: Principal, apiTokenId: string): Promise<ApiTokenEntity> {
    return this.db.transaction(async (tx) => {
      const token = await tx.apiTokens.findById(tokenScope(principal), apiTokenId);
      if (!token) throw notFound('ApiToken', apiTokenId);
      const owner = await tx.users.findById(ALL_ORGANIZATIONS, token.userId);
      if (!owner) throw notFound('ApiToken', apiTokenId);
      if (owner.id !== principal.userId && !canManageUser(principal.role, owner.role)) {
        throw forbidden(`Your role (${principal.role}) may not revoke the tokens of a ${owner.role}`);
      }
      if (await tx.apiTokens.revoke(token.id)) {
        await this.record(
          tx,
          principal,
          owner,
          EventType.API_TOKEN_REVOKED,
          `Token ${token.name} of ${owner.email} revoked`,
          { userId: owner.id, name: token.name },
          { resourceType: 'ApiToken', resourceId: token.id },
        );
      }
      return (await tx.apiTokens.findById(ALL_ORGANIZATIONS, token.id))!;
    });
  }

  /** Changes a user's role or disables/enables it; a field left out (or null) keeps its value. */
  async updateUser(principal: Principal, input: UpdateUserInput): Promise<UserEntity> {
    return this.db.transaction(async (tx) => {
      const user = await this.manageable(tx, principal, input.userId);
      const role = input.role ?? user.role;
      const disabled = input.disabled ?? user.disabled;
      if (role === user.role && disabled === user.disabled) return user;
      if (user.id === principal.userId) {
        // Nobody locks themselves (and maybe their organization) out; another administrator can do it.
        throw preconditionFailed('You may not change your own role or disable yourself');
      }
      if (!canGrantRole(principal.role, role)) throw forbidden(`Your role (${principal.role}) may not grant ${role}`);
      const updated = await tx.users.update(user.id, { role, disabled });
      const what = [
        role !== user.role ? `role ${user.role} → ${role}` : null,
        disabled !== user.disabled ? (disabled ? 'disabled' : 'enabled') : null,
      ].filter(Boolean);
      await this.record(tx, principal, updated, EventType.USER_UPDATED, `User ${user.email}: ${what.join(', ')}`, {
        before: { role: user.role, disabled: user.disabled },
        after: { role, disabled },
      });
      return updated;
    });
  }

  /**
   * Deletes a user and its tokens (they stop working at once). Its jobs and events keep its id (plain
   * columns, no foreign key), so the history still says who did what.
   */
  async deleteUser(principal: Principal, input: DeleteUserInput): Promise<UserEntity> {
    return this.db.transaction(async (tx) => {
      const user = await this.manageable(tx, principal, input.userId);
      if (user.id === principal.userId) throw preconditionFailed('You may not delete yourself');
      const removedTokenIds = await tx.apiTokens.idsOfUser(user.id);
      await tx.users.delete(user.id);
      await this.record(tx, principal, user, EventType.USER_DELETED, `User ${user.email} deleted`, {
        email: user.email,
        role: user.role,
        removedTokenIds,
      });
      return user;
    });
  }

  /** The user, locked, if the caller may act on it (itself included: the callers decide about that). */
  private async manageable(tx: Repositories, principal: Principal, userId: string): Promise<UserEntity> {
    const user = await tx.users.findForUpdate(writeScope(principal), userId);
    if (!user) throw notFound('User', userId);
    if (user.id !== principal.userId && !canManageUser(principal.role, user.role)) {
      throw forbidden(`Your role (${principal.role}) may not change a ${user.role}`);
    }
    return user;
  }

  private async record(
    tx: Repositories,
    principal: Principal,
    user: UserEntity,
    type: EventType,
    message: string,
    details: Record<string, unknown>,
    resource: { resourceType: string; resourceId: string } = { resourceType: 'User', resourceId: user.id },
  ): Promise<void> {
    await tx.events.record({
      organizationId: user.organizationId,
      actorUserId: principal.userId,
      type,
      ...resource,
      message,
      details,
    });
  }
}
