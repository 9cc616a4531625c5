import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { DomainError, ErrorCode, forbidden, hasPermission, type Permission } from '@snapdeck/domain';
import type { GraphQLContext } from '../graphql/context.js';
import { AuthService } from './auth.service.js';
import { REQUIRED_PERMISSION } from './require-permission.decorator.js';
import { bearerToken } from './token.js';

/**
 * Global guard of every GraphQL operation: authenticates the bearer token once per request, then checks
 * the permission the operation declares. An operation that declares none is refused (closed by default).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(executionContext: ExecutionContext): Promise<boolean> {
    if (executionContext.getType<string>() !== 'graphql') return true;
    const context = GqlExecutionContext.create(executionContext).getContext<GraphQLContext>();
    const principal = await this.principalOf(context);
    const permission = this.reflector.get<Permission | undefined>(REQUIRED_PERMISSION, executionContext.getHandler());
    if (!permission) throw forbidden('This operation is not open to any role');
    if (!hasPermission(principal.role, permission)) throw forbidden(`Your role (${principal.role}) may not do this`);
    return true;
  }

  private async principalOf(context: GraphQLContext) {
    if (context.principal) return context.principal;
    // One lookup per request, shared by every root field of a multi-field operation.
    context.authentication ??= this.authenticate(context.req, context.authorization);
    context.principal = await context.authentication;
    return context.principal;
  }

  private async authenticate(request: object, header: string | undefined) {
    const secret = bearerToken(header);
    if (!secret) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Missing bearer token');
    // The failed-authentication limiter may have looked this request's token up already.
    const principal = await this.auth.authenticateRequest(request, secret);
    if (!principal) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid, expired or revoked bearer token');
    return principal;
  }
}
