import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { CreateApiTokenInput } from './dto/create-api-token.input.js';
import { CreateUserInput } from './dto/create-user.input.js';
import { DeleteUserInput, RevokeApiTokenInput, UpdateUserInput } from './dto/user-changes.input.js';
import { ApiTokenConnection, ApiTokenModel } from './models/api-token.model.js';
import {
  CreateApiTokenPayload,
  CreateUserPayload,
  DeleteUserPayload,
  RevokeApiTokenPayload,
  UpdateUserPayload,
} from './models/payloads.js';
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
    description:
      'Mints a token for the caller, or (ORG_ADMIN) for a MEMBER or READ_ONLY user of its organization, or ' +
      '(PLATFORM_ADMIN) for anyone. The secret is answered once.',
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async createApiToken(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: "The user and the token's name." }) input: CreateApiTokenInput,
  ): Promise<CreateApiTokenPayload> {
    const { token, apiToken } = await this.users.createApiToken(principal, input);
    return { token, apiToken: ApiTokenModel.from(apiToken) };
  }

  @Query(() => ApiTokenConnection, {
    description:
      "The caller's own api tokens, newest first (revoked and expired ones included); an ORG_ADMIN sees every " +
      "token of its organization, a PLATFORM_ADMIN every token. Never a secret or a secret's hash.",
  })
  @RequirePermission(Permission.READ)
  async apiTokens(@CurrentPrincipal() principal: Principal, @Args() page: PageArgs): Promise<ApiTokenConnection> {
    return toConnection(await this.users.listApiTokens(principal, page), ApiTokenModel.from);
  }

  @Mutation(() => RevokeApiTokenPayload, {
    description:
      'Revokes a token: it stops working at once, on HTTP and on open WebSockets (closed with 4401 within ' +
      'SUBSCRIPTION_AUTH_RECHECK_SECONDS). Anyone may revoke their own; an ORG_ADMIN the tokens of MEMBER and ' +
      'READ_ONLY users of its organization; a PLATFORM_ADMIN any. Revoking a revoked token changes nothing.',
  })
  // Open to every role: revoking one's own leaked token must not wait for an administrator.
  @RequirePermission(Permission.READ)
  async revokeApiToken(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The token to revoke.' }) input: RevokeApiTokenInput,
  ): Promise<RevokeApiTokenPayload> {
    return { apiToken: ApiTokenModel.from(await this.users.revokeApiToken(principal, input.apiTokenId)) };
  }

  @Mutation(() => UpdateUserPayload, {
    description:
      "Changes a user's role or disables/enables it: an ORG_ADMIN for MEMBER and READ_ONLY users of its " +
      'organization (never granting above its own role), a PLATFORM_ADMIN for anyone. Nobody changes their own ' +
      "role or disables themselves. A disabled user's tokens stop working at once.",
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async updateUser(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The user and what changes.' }) input: UpdateUserInput,
  ): Promise<UpdateUserPayload> {
    return { user: UserModel.from(await this.users.updateUser(principal, input)) };
  }

  @Mutation(() => DeleteUserPayload, {
    description:
      'Deletes a user and its tokens (they stop working at once); its jobs and events keep its id. Same rights ' +
      'as updateUser; nobody deletes themselves.',
  })
  @RequirePermission(Permission.MANAGE_ORGANIZATION)
  async deleteUser(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The user to delete.' }) input: DeleteUserInput,
  ): Promise<DeleteUserPayload> {
    return { user: UserModel.from(await this.users.deleteUser(principal, input)) };
  }
}
