import { Injectable } from '@nestjs/common';
import { conflict } from '@snapdeck/domain';
import { Database, type Page, type PageRequest, type OrganizationEntity } from '@snapdeck/persistence';
import { isUniqueViolation } from '../common/database-errors.js';

@Injectable()
export class OrganizationsService {
  constructor(private readonly db: Database) {}

  async create(name: string): Promise<OrganizationEntity> {
    try {
      return await this.db.repos.organizations.create(name);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`An organization named ${name} exists already`);
      throw error;
    }
  }

  list(page: PageRequest): Promise<Page<OrganizationEntity>> {
    return this.db.repos.organizations.list(page);
  }
}
