import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLContext } from '../graphql/context.js';
import type { Principal } from './principal.js';

/** The caller that the guard authenticated for this request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const context = GqlExecutionContext.create(ctx).getContext<GraphQLContext>();
  if (!context.principal) throw new Error('CurrentPrincipal used on an operation the guard did not authenticate');
  return context.principal;
});
