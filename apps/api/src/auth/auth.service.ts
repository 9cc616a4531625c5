import { Injectable } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import type { Principal } from './principal.js';
import { hashToken } from './token.js';

@Injectable()
export class AuthService {
  constructor(private readonly db: Database) {}

  /** The principal behind a bearer secret, or null when no token matches. */
  async authenticate(secret: string): Promise<Principal | null> {
    const user = await this.db.repos.users.findByTokenHash(hashToken(secret));
    if (!user) return null;
    return { userId: user.id, email: user.email, organizationId: user.organizationId, role: user.role };
  }
}
