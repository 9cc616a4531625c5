import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { ApiTokenEntity } from '../entities/api-token.entity.js';
import { UserEntity } from '../entities/user.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import type { ReadScope } from '../scope.js';

/**
 * Which tokens a caller sees: an organization's or every one (a ReadScope, for administrators), or only one
 * user's own. Tokens carry no organization of their own: the scope applies to their user's.
 */
export type TokenScope = ReadScope | { readonly kind: 'user'; readonly userId: string };

/** A token that authenticates, with its user. */
export interface AuthenticatedToken {
  token: ApiTokenEntity;
  user: UserEntity;
}

/** lastUsedAt is written at most this often per token: authentication must not cost a write per request. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export class ApiTokenRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(
    userId: string,
    name: string,
    tokenHash: string,
    expiresAt: Date | null = null,
  ): Promise<ApiTokenEntity> {
    return this.manager.save(
      this.manager.create(ApiTokenEntity, {
        id: newId(),
        userId,
        name,
        tokenHash,
        expiresAt,
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
  }

  /** Any token with this hash, revoked and expired ones included (the admin bootstrap's idempotence). */
  findByHash(tokenHash: string): Promise<ApiTokenEntity | null> {
    return this.manager.findOneBy(ApiTokenEntity, { tokenHash });
  }

  /**
   * Authentication, across every organization (the caller is not known yet): the token with this hash if
   * it is neither revoked nor expired and its user is not disabled, with that user.
   */
  async authenticate(tokenHash: string): Promise<AuthenticatedToken | null> {
    const token = await this.valid().andWhere('t.token_hash = :tokenHash', { tokenHash }).getOne();
    if (!token?.user) return null;
    const { user, ...row } = token;
    return { token: Object.assign(new ApiTokenEntity(), row), user };
  }

  /**
   * The tokens among `ids` that still authenticate, with their users: open WebSockets re-check theirs with
   * one query per interval.
   */
  async stillValid(ids: readonly string[]): Promise<AuthenticatedToken[]> {
    if (ids.length === 0) return [];
    const tokens = await this.valid().andWhere('t.id IN (:...ids)', { ids }).getMany();
    return tokens.map(({ user, ...row }) => ({ token: Object.assign(new ApiTokenEntity(), row), user: user! }));
  }

  /**
   * Records that a token authenticated, unless it did so within the last minute: the condition makes the
   * write happen at most once a minute per token, whatever the number of requests or api replicas.
   */
  async touch(id: string): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .update(ApiTokenEntity)
      .set({ lastUsedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere(
        `(last_used_at IS NULL OR last_used_at < now() - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS}))`,
      )
      .execute();
  }

  findById(scope: TokenScope, id: string): Promise<ApiTokenEntity | null> {
    return this.scoped(scope).andWhere('t.id = :id', { id }).getOne();
  }

  list(scope: TokenScope, page: PageRequest): Promise<Page<ApiTokenEntity>> {
    return paginate(this.scoped(scope), 't', page);
  }

  /** The ids of a user's tokens (deleteUser records which ones went with it). */
  async idsOfUser(userId: string): Promise<string[]> {
    const rows = await this.manager.find(ApiTokenEntity, { select: { id: true }, where: { userId } });
    return rows.map((r) => r.id);
  }

  /** Revokes a token that is not revoked yet; false when it already was (revoking is idempotent). */
  async revoke(id: string): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .update(ApiTokenEntity)
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  private valid(): SelectQueryBuilder<ApiTokenEntity> {
    return this.manager
      .createQueryBuilder(ApiTokenEntity, 't')
      .innerJoinAndSelect('t.user', 'u')
      .where('t.revoked_at IS NULL')
      .andWhere('(t.expires_at IS NULL OR t.expires_at > now())')
      .andWhere('u.disabled = false');
  }

  private scoped(scope: TokenScope): SelectQueryBuilder<ApiTokenEntity> {
    const qb = this.manager.createQueryBuilder(ApiTokenEntity, 't');
    switch (scope.kind) {
      case 'all':
        return qb;
      case 'user':
        return qb.where('t.user_id = :scopeUserId', { scopeUserId: scope.userId });
      case 'organization':
        return qb
          .innerJoin(UserEntity, 'u', 'u.id = t.user_id')
          .where('u.organization_id = :scopeOrganizationId', { scopeOrganizationId: scope.organizationId });
    }
  }
}
