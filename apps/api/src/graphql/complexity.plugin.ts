import type { ApolloServerPlugin, GraphQLRequest } from '@apollo/server';
import { badInput } from '@snapdeck/domain';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { GraphQLError } from 'graphql';
import { DEFAULT_PAGE_SIZE } from '@snapdeck/persistence';

/**
 * A connection costs its page size times what each node costs, so `snapshots(first: 100) { edges { node {
 * volume { snapshots(first: 100) … } } } }` is priced as the 10,000 rows it could touch.
 */
const connectionEstimator: ComplexityEstimator = ({ args, field, childComplexity }) => {
  const returnsConnection = /Connection!?$/.test(String(field.type));
  if (!returnsConnection) return undefined;
  const first = typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
  return 1 + Math.max(first, 1) * childComplexity;
};

/** Refuses, before execution, any operation whose estimated cost exceeds `maxCost`. */
export function complexityPlugin(schema: () => GraphQLSchema, maxCost: number): ApolloServerPlugin {
  const estimate = (request: GraphQLRequest, document: DocumentNode): number | null => {
    try {
      return getComplexity({
        schema: schema(),
        operationName: request.operationName,
        query: document,
        variables: request.variables,
        estimators: [connectionEstimator, simpleEstimator({ defaultComplexity: 1 })],
      });
    } catch {
      // Variables that do not coerce: Apollo answers those itself with BAD_USER_INPUT before executing.
      return null;
    }
  };
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ request, document }) => {
          const cost = estimate(request, document);
          if (cost !== null && cost > maxCost) {
            const error = badInput(`Query is too expensive: cost ${cost}, the limit is ${maxCost}`);
            return Promise.reject(new GraphQLError(error.message, { extensions: { code: error.code, cost, maxCost } }));
          }
          return Promise.resolve();
        },
      }),
  };
}
