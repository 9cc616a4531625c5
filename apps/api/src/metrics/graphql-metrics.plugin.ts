import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { Plugin } from '@nestjs/apollo';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { ApiMetrics } from './api-metrics.js';

/** More root fields than this in one operation are labelled `multiple`, so a client cannot mint label values. */
const MAX_NAMED_ROOT_FIELDS = 3;

/**
 * The operation label: the root fields it selects (`createSnapshot`, `hosts,viewer`), which the schema bounds,
 * rather than the client-chosen operation name, which would let any caller create new series. Requests that
 * never resolve to an operation (syntax or validation errors) are `invalid`.
 */
export function operationLabel(operation: OperationDefinitionNode | null | undefined): string {
  if (!operation) return 'invalid';
  const fields = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD) fields.add(selection.name.value);
    else return 'fragment';
  }
  if (fields.size === 0) return 'invalid';
  if (fields.size > MAX_NAMED_ROOT_FIELDS) return 'multiple';
  return [...fields].sort().join(',');
}

/** Times every GraphQL request into `snapdeck_graphql_request_duration_seconds` (found by @Plugin()). */
@Plugin()
export class GraphqlMetricsPlugin implements ApolloServerPlugin {
  constructor(private readonly metrics: ApiMetrics) {}

  requestDidStart(): Promise<GraphQLRequestListener<BaseContext>> {
    const started = process.hrtime.bigint();
    let operation: string = 'invalid';
    let failed = false;
    return Promise.resolve({
      didResolveOperation: ({ operation: resolved }) => {
        operation = operationLabel(resolved);
        return Promise.resolve();
      },
      didEncounterErrors: () => {
        failed = true;
        return Promise.resolve();
      },
      willSendResponse: () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.observeGraphqlRequest(operation, failed ? 'error' : 'success', seconds);
        return Promise.resolve();
      },
    });
  }
}
