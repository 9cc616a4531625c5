import type { ApolloServerPlugin } from '@apollo/server';
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
  const pageArg: unknown = args.first ?? args.last;
  const first = typeof pageArg === 'number' ? pageArg : DEFAULT_PAGE_SIZE;
  return 1 + Math.max(first, 1) * childComplexity;
};

/**
 * The estimated cost of one operation of `document`, or null when its variables do not coerce (GraphQL
 * answers those itself with BAD_USER_INPUT before executing).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): number | null {
  try {
    return getComplexity({
      schema,
      operationName: operationName ?? undefined,
      query: document,
      variables: variables ?? undefined,
      estimators: [connectionEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    return null;
  }
}

/** The refusal of an operation that costs more than `maxCost`, or null when it does not. */
export function costError(cost: number | null, maxCost: number): GraphQLError | null {
  if (cost === null || cost <= maxCost) return null;
  const error = badInput(`Query is too expensive: cost ${cost}, the limit is ${maxCost}`);
  return new GraphQLError(error.message, { extensions: { code: error.code, cost, maxCost } });
}

/** Refuses, before execution, any operation whose estimated cost exceeds `maxCost`. */
export function complexityPlugin(schema: () => GraphQLSchema, maxCost: number): ApolloServerPlugin {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ request, document }) => {
          const error = costError(operationCost(schema(), document, request.operationName, request.variables), maxCost);
          return error ? Promise.reject(error) : Promise.resolve();
        },
      }),
  };
}
