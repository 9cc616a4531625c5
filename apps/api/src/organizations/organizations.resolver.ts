import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { CreateOrganizationInput } from './dto/create-organization.input.js';
import { CreateOrganizationPayload } from './models/create-organization.payload.js';
import { OrganizationConnection, OrganizationModel } from './models/organization.model.js';
import { OrganizationsService } from './organizations.service.js';

@Resolver(() => OrganizationModel)
export class OrganizationsResolver {
  constructor(private readonly service: OrganizationsService) {}

  @Query(() => OrganizationConnection, { description: 'Every organization (platform administrators and support).' })
  @RequirePermission(Permission.READ_ALL_ORGANIZATIONS)
  async organizations(@Args() page: PageArgs): Promise<OrganizationConnection> {
    return toConnection(await this.service.list(page), OrganizationModel.from);
  }

  @Mutation(() => CreateOrganizationPayload, { description: 'A new organization (platform administrators).' })
  @RequirePermission(Permission.PLATFORM)
  async createOrganization(
    @Args('input', { description: 'The organization to create.' }) input: CreateOrganizationInput,
  ): Promise<CreateOrganizationPayload> {
    return { organization: OrganizationModel.from(await this.service.create(input.name)) };
  }
}
