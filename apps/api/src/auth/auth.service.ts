import { Injectable, Logger } from '@nestjs/common';
import { Database, LAST_USED_RESOLUTION_SECONDS, type AuthenticatedToken } from '@snapdeck/persistence';
import type { Principal } from './principal.js';
import { hashToken } from './token.js';

/** The principal a token row and its user stand for. */
export function principalOf({ token, user }: AuthenticatedToken): Principal {
  return {
    userId: user.id,
    email: user.email,
    organizationId: user.organizationId,
    role: user.role,
    tokenId: token.id,
  };
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  /** Authentications already started for an HTTP request (the rate limiter's, reused by the guard). */
  private readonly byRequest = new WeakMap<object, Promise<Principal | null>>();

  constructor(private readonly db: Database) {}

  /**
   * The principal behind a bearer secret, or null when no token matches, or it is revoked or expired, or
   * its user is disabled: every request reads the token afresh, so a revocation applies to the next one.
   */
  async authenticate(secret: string): Promise<Principal | null> {
    const found = await this.db.repos.apiTokens.authenticate(hashToken(secret));
    if (!found) return null;
    const { lastUsedAt } = found.token;
    if (!lastUsedAt || Date.now() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_SECONDS * 1000) {
      // At most one write a minute per token (the UPDATE is conditional, so replicas do not add up).
      await this.db.repos.apiTokens.touch(found.token.id).catch((error: unknown) => {
        this.logger.warn(`lastUsedAt of token ${found.token.id} not recorded: ${(error as Error).message}`);
      });
    }
    return principalOf(found);
  }

  /** `authenticate`, once per HTTP request: a second caller for the same request gets the same answer. */
  authenticateRequest(request: object, secret: string): Promise<Principal | null> {
    let pending = this.byRequest.get(request);
    if (!pending) {
      pending = this.authenticate(secret);
      this.byRequest.set(request, pending);
    }
    return pending;
  }
}
