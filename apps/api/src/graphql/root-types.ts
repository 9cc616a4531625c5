import type { GraphQLSchema } from 'graphql';

/**
 * Descriptions of the root types, which code-first Nest cannot declare: every type of the schema is described
 * (graphql-schema-linter's types-have-descriptions). GraphQLModule's transformSchema and schema.graphql's
 * writer both apply it.
 */
export function describeRootTypes(schema: GraphQLSchema): GraphQLSchema {
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  if (query) query.description = 'Reads: lists are Relay connections, and a resource the caller may not see is null.';
  if (mutation)
    mutation.description =
      'Changes: each takes one input and answers a payload; work on disks runs as a Job. Send an ' +
      '`Idempotency-Key` HTTP header (one mutation per request) to make a retry safe: the same key with the ' +
      "same mutation and input within 24 h answers the first request's resources instead of doing it again. " +
      'An error with `extensions.code` SERVICE_UNAVAILABLE (`retryable: true`) changed nothing: retry it.';
  if (subscription) subscription.description = 'Changes as they happen, over WebSocket (graphql-ws) at /graphql.';
  return schema;
}
