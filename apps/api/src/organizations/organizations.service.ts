import { Inject, Injectable } from '@nestjs/common';
import { conflict, LIMIT_RESOURCES, notFound, type OrganizationLimits, type OrganizationUsage } from '@snapdeck/domain';
import { Database, type Page, type PageRequest, type OrganizationEntity } from '@snapdeck/persistence';
import { isUniqueViolation } from '../common/database-errors.js';
import { API_CONFIG, type ApiConfig } from '../config.js';

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly db: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /**
   * A new organization starts with DEFAULT_ORGANIZATION_LIMITS. In a transaction of its own, as every mutation's
   * write: a request's Idempotency-Key commits with it.
   */
  async create(name: string): Promise<OrganizationEntity> {
    try {
      return await this.db.transaction((tx) => tx.organizations.create(name, this.config.DEFAULT_ORGANIZATION_LIMITS));
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`An organization named ${name} exists already`);
      throw error;
    }
  }

  list(page: PageRequest): Promise<Page<OrganizationEntity>> {
    return this.db.repos.organizations.list(page);
  }

  /** Only the fields present change (undefined: left out); null removes a limit. */
  async setLimits(organizationId: string, input: Partial<OrganizationLimits>): Promise<OrganizationEntity> {
    const changes: Partial<OrganizationLimits> = {};
    for (const resource of LIMIT_RESOURCES) if (input[resource] !== undefined) changes[resource] = input[resource];
    return this.db.transaction(async (tx) => {
      if (!(await tx.organizations.setLimits(organizationId, changes))) throw notFound('Organization', organizationId);
      return (await tx.organizations.findById(organizationId))!;
    });
  }

  usage(organizationId: string): Promise<OrganizationUsage> {
    return this.db.repos.organizations.usage(organizationId);
  }
}
