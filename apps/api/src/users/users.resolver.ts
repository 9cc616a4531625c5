import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { CreateApiTokenInput } from './dto/create-api-token.input.js';
import { CreateUserInput } from './dto/create-user.input.js';
import { ApiTokenModel } from './models/api-token.model.js';
import { CreateApiTokenPayload, CreateUserPayload } from './models/payloads.js';
import { UserModel } from './models/user.model.js';
import { UsersService } from './users.service.js';

@Resolver(() => UserModel)
export class UsersResolver {
  constructor(private readonly users: UsersService) {}

  @Mutation(() => CreateUserPayload, {
    description: "A new user of an organization (platform administrators, or that organization's ORG_ADMIN).",
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async createUser(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The user to create.' }) input: CreateUserInput,
  ): Promise<CreateUserPayload> {
    return { user: UserModel.from(await this.users.createUser(principal, input)) };
  }

  @Mutation(() => CreateApiTokenPayload, {
    description: 'A bearer token for a user; the secret is in the answer once and never again.',
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async createApiToken(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: "The user and the token's name." }) input: CreateApiTokenInput,
  ): Promise<CreateApiTokenPayload> {
    const { token, apiToken } = await this.users.createApiToken(principal, input);
    return { token, apiToken: ApiTokenModel.from(apiToken) };
  }
}
