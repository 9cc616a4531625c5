import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { CreateOrganizationInput } from './dto/create-organization.input.js';
import { SetOrganizationLimitsInput } from './dto/set-organization-limits.input.js';
import { CreateOrganizationPayload } from './models/create-organization.payload.js';
import { OrganizationUsageModel } from './models/organization-limits.model.js';
import { OrganizationConnection, OrganizationModel } from './models/organization.model.js';
import { SetOrganizationLimitsPayload } from './models/set-organization-limits.payload.js';
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

  @Mutation(() => SetOrganizationLimitsPayload, {
    description:
      "Sets an organization's limits (platform administrators): a field left out keeps its value, null removes " +
      'that limit. A limit below what the organization holds refuses new requests and removes nothing.',
  })
  @RequirePermission(Permission.PLATFORM)
  async setOrganizationLimits(
    @Args('input', { description: 'The organization and the limits to change.' }) input: SetOrganizationLimitsInput,
  ): Promise<SetOrganizationLimitsPayload> {
    const { organizationId, ...limits } = input;
    return { organization: OrganizationModel.from(await this.service.setLimits(organizationId, limits)) };
  }

  @ResolveField(() => OrganizationUsageModel, {
    description: 'What the organization holds now, counted from its resources as the limits count them.',
  })
  async usage(@Parent() organization: OrganizationModel): Promise<OrganizationUsageModel> {
    // The parent was read within the caller's scope (its own organization, or every one for staff).
    return Object.assign(new OrganizationUsageModel(), await this.service.usage(organization.id));
  }
}
