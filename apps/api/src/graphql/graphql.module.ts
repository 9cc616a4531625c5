import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule } from '@nestjs/common';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { Database } from '@snapdeck/persistence';
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { AuthService } from '../auth/auth.service.js';
import { FailedAuthentications } from '../auth/failed-authentications.js';
import { OpenSockets } from '../auth/open-sockets.service.js';
import { registerDomainEnums } from '../common/enums.graphql.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { graphqlWsOptions } from '../subscriptions/graphql-ws.options.js';
import { complexityPlugin } from './complexity.plugin.js';
import { GraphQLContext } from './context.js';
import { createErrorFormatter } from './error-formatter.js';
import { inputStringsRule, maxRootFieldsRule, operationGuardPlugin } from './operation-limits.js';
import { describeRootTypes } from './root-types.js';

registerDomainEnums();

/**
 * Apollo, code-first, with depth and cost limits, per-request DataLoaders and contract error codes; the same
 * limits and codes for subscriptions over WebSocket (graphql-ws) at the same path.
 */
export function graphqlModule(): DynamicModule {
  return GraphQLModule.forRootAsync<ApolloDriverConfig>({
    driver: ApolloDriver,
    inject: [API_CONFIG, Database, GraphQLSchemaHost, AuthService, OpenSockets, FailedAuthentications],
    useFactory: (
      config: ApiConfig,
      db: Database,
      schemaHost: GraphQLSchemaHost,
      auth: AuthService,
      sockets: OpenSockets,
      failures: FailedAuthentications,
    ) => {
      const production = config.NODE_ENV === 'production';
      const formatError = createErrorFormatter(production);
      const depthRule = maxDepthRule({
        n: config.GRAPHQL_MAX_DEPTH,
        ignoreIntrospection: true,
        // Reported as a validation error (BAD_USER_INPUT) instead of thrown out of validation.
        propagateOnRejection: false,
        onReject: [(context, error) => context?.reportError(error)],
      });
      const aliasesRule = maxAliasesRule({
        n: config.GRAPHQL_MAX_ALIASES,
        propagateOnRejection: false,
        onReject: [(context, error) => context?.reportError(error)],
      });
      // The same rules on HTTP and WebSocket.
      const validationRules = [
        depthRule,
        aliasesRule,
        maxRootFieldsRule(config.GRAPHQL_MAX_ROOT_FIELDS),
        inputStringsRule,
      ];
      return {
        autoSchemaFile: true,
        sortSchema: true,
        transformSchema: describeRootTypes,
        path: '/graphql',
        // Introspection is served, in production to an authenticated caller only (operationGuardPlugin).
        introspection: true,
        includeStacktraceInErrorResponses: !production,
        // No "Did you mean …?" in production: suggestions spell out the schema to whoever probes it.
        hideSchemaDetailsFromClientErrors: production,
        // Nest's own GraphiQL at GET /graphql loads from a CDN: GET /graphiql serves it from the packages.
        graphiql: false,
        formatError,
        validationRules,
        subscriptions: {
          'graphql-ws': graphqlWsOptions({
            auth,
            sockets,
            failures,
            db,
            schema: () => schemaHost.schema,
            validationRules,
            maxCost: config.GRAPHQL_MAX_COST,
            formatError,
            production,
          }),
        },
        plugins: [
          operationGuardPlugin({ auth, production }),
          complexityPlugin(() => schemaHost.schema, config.GRAPHQL_MAX_COST),
        ],
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
