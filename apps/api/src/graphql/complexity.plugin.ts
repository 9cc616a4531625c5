import type { ApolloServerPlugin } from '@apollo/server';
import { badInput } from '@snapdeck/domain';
import {
  fieldExtensionsEstimator,
  getComplexity,
  simpleEstimator,
  type ComplexityEstimator,
} from 'graphql-query-complexity';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { GraphQLError } from 'graphql';
import { DEFAULT_PAGE_SIZE } from '@snapdeck/persistence';

/**
 * What one round trip to PostgreSQL costs, against 1 for a field read from a row already loaded (or batched
 * by a DataLoader). Every root field runs at least one such lookup (a mutation runs a transaction), so a
 * root field costs LOOKUP_COST plus its selection, and `node(id)` costs one per table it asks (it declares
 * its cost on its @Query).
 */
export const LOOKUP_COST = 10;

const isConnection = (type: unknown) => /Connection!?$/.test(String(type));

/**
 * A connection costs its page size times what each node costs, so `snapshots(first: 100) { edges { node {
 * volume { snapshots(first: 100) … } } } }` is priced as the 10,000 rows it could touch.
 */
const connectionEstimator: ComplexityEstimator = ({ args, field, childComplexity }) => {
  if (!isConnection(field.type)) return undefined;
  const pageArg: unknown = args.first ?? args.last;
  const first = typeof pageArg === 'number' ? pageArg : DEFAULT_PAGE_SIZE;
  return 1 + Math.max(first, 1) * childComplexity;
};

/** A root field is a lookup (or a transaction) of its own: LOOKUP_COST more than the same field nested. */
function rootFieldEstimator(schema: GraphQLSchema): ComplexityEstimator {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  return (options) => {
    if (!roots.has(options.type as never)) return undefined;
    const nested = [fieldExtensionsEstimator(), connectionEstimator, simpleEstimator({ defaultComplexity: 1 })];
    for (const estimate of nested) {
      const cost = estimate(options);
      if (typeof cost === 'number' && !Number.isNaN(cost)) return LOOKUP_COST + cost;
    }
    return undefined;
  };
}

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
      estimators: [
        rootFieldEstimator(schema),
        fieldExtensionsEstimator(),
        connectionEstimator,
        simpleEstimator({ defaultComplexity: 1 }),
      ],
    });
  } catch {
    return null;
  }
}

/**
 * A refusal before execution: BAD_USER_INPUT, answered with HTTP 400 (Apollo answers an error thrown by a
 * plugin with 500 unless the error names its status; graphql-ws drops the `http` extension).
 */
export function refusal(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  const error = badInput(message);
  return new GraphQLError(error.message, {
    extensions: { ...extensions, code: error.code, http: { status: 400 } },
  });
}

/** The refusal of an operation that costs more than `maxCost`, or null when it does not. */
export function costError(cost: number | null, maxCost: number): GraphQLError | null {
  if (cost === null || cost <= maxCost) return null;
  return refusal(`Query is too expensive: cost ${cost}, the limit is ${maxCost}`, { cost, maxCost });
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
