import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Role } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { hashToken } from './token.js';

export const PLATFORM_ORGANIZATION = 'platform';
export const BOOTSTRAP_ADMIN_EMAIL = 'admin@snapdeck.local';

/**
 * With SNAPDECK_ADMIN_TOKEN set, makes sure a platform administrator exists whose bearer token is that
 * value, so a fresh install can be driven by scripts without touching SQL. Safe to run on every start and
 * from several replicas at once.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    private readonly db: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const secret = this.config.SNAPDECK_ADMIN_TOKEN;
    if (!secret) return;
    try {
      await this.ensureAdmin(hashToken(secret));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await this.ensureAdmin(hashToken(secret)); // another replica won the race; the second pass finds its rows
    }
  }

  private async ensureAdmin(tokenHash: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      // A token with this hash that was revoked (or whose user was disabled) stays so across restarts:
      // to get a working bootstrap token again, set another SNAPDECK_ADMIN_TOKEN.
      if (await tx.apiTokens.findByHash(tokenHash)) return;
      const organization =
        (await tx.organizations.findByName(PLATFORM_ORGANIZATION)) ??
        (await tx.organizations.create(PLATFORM_ORGANIZATION));
      const admin =
        (await tx.users.findByEmail(organization.id, BOOTSTRAP_ADMIN_EMAIL)) ??
        (await tx.users.create(organization.id, BOOTSTRAP_ADMIN_EMAIL, Role.PLATFORM_ADMIN));
      await tx.apiTokens.create(admin.id, 'bootstrap', tokenHash);
      this.logger.log(`platform administrator ${admin.email} can now sign in with SNAPDECK_ADMIN_TOKEN`);
    });
  }
}
