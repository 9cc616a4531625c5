import { Module } from '@nestjs/common';
import { OrganizationsResolver } from './organizations.resolver.js';
import { OrganizationsService } from './organizations.service.js';

@Module({ providers: [OrganizationsResolver, OrganizationsService] })
export class OrganizationsModule {}
