import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule } from '@nestjs/common';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { Database } from '@snapdeck/persistence';
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { registerDomainEnums } from '../common/enums.graphql.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { complexityPlugin } from './complexity.plugin.js';
import { GraphQLContext } from './context.js';
import { createErrorFormatter } from './error-formatter.js';

registerDomainEnums();

/** Apollo, code-first, with depth and cost limits, per-request DataLoaders and contract error codes. */
export function graphqlModule(): DynamicModule {
  return GraphQLModule.forRootAsync<ApolloDriverConfig>({
    driver: ApolloDriver,
    inject: [API_CONFIG, Database, GraphQLSchemaHost],
    useFactory: (config: ApiConfig, db: Database, schemaHost: GraphQLSchemaHost) => {
      const production = config.NODE_ENV === 'production';
      return {
        autoSchemaFile: true,
        sortSchema: true,
        path: '/graphql',
        introspection: !production,
        includeStacktraceInErrorResponses: !production,
        formatError: createErrorFormatter(production),
        validationRules: [
          maxDepthRule({
            n: config.GRAPHQL_MAX_DEPTH,
            ignoreIntrospection: true,
            // Reported as a validation error (BAD_USER_INPUT) instead of thrown out of validation.
            propagateOnRejection: false,
            onReject: [(context, error) => context?.reportError(error)],
          }),
        ],
        plugins: [complexityPlugin(() => schemaHost.schema, config.GRAPHQL_MAX_COST)],
        context: ({ req }: { req: Request }): GraphQLContext =>
          new GraphQLContext(
            req,
            req.headers.authorization,
            (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
            db,
          ),
      };
    },
  });
}
