import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import type { GraphQLContext } from '../graphql/context.js';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { CreateEnvironmentInput } from './dto/create-environment.input.js';
import { EnvironmentsService } from './environments.service.js';
import { CreateEnvironmentPayload } from './models/create-environment.payload.js';
import { EnvironmentConnection, EnvironmentModel } from './models/environment.model.js';

@Resolver(() => EnvironmentModel)
export class EnvironmentsResolver {
  constructor(private readonly service: EnvironmentsService) {}

  @Query(() => EnvironmentConnection, {
    description: "The environments of the caller's organization (all of them for platform staff), newest first.",
  })
  @RequirePermission(Permission.READ)
  async environments(@CurrentPrincipal() principal: Principal, @Args() page: PageArgs): Promise<EnvironmentConnection> {
    return toConnection(await this.service.list(principal, page), EnvironmentModel.from);
  }

  @Mutation(() => CreateEnvironmentPayload, { description: 'A new environment.' })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async createEnvironment(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The environment to create.' }) input: CreateEnvironmentInput,
  ): Promise<CreateEnvironmentPayload> {
    return { environment: EnvironmentModel.from(await this.service.create(principal, input)) };
  }

  @ResolveField(() => OrganizationModel, { description: 'The organization it belongs to.' })
  async organization(
    @Parent() environment: EnvironmentModel,
    @Context() ctx: GraphQLContext,
  ): Promise<OrganizationModel> {
    const row = await ctx.loaders.organizations.load(environment.organizationId);
    return OrganizationModel.from(row!);
  }
}
