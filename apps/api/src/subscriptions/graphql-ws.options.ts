import type { GraphQLWsSubscriptionsConfig } from '@nestjs/graphql';
import { ErrorCode } from '@snapdeck/domain';
import type { Database } from '@snapdeck/persistence';
import {
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { CloseCode, type Context, type ServerOptions } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AuthService } from '../auth/auth.service.js';
import type { FailedAuthentications } from '../auth/failed-authentications.js';
import type { OpenSockets } from '../auth/open-sockets.service.js';
import { bearerToken } from '../auth/token.js';
import { costError, operationCost } from '../graphql/complexity.plugin.js';
import { GraphQLContext } from '../graphql/context.js';
import { withoutSuggestions } from '../graphql/error-formatter.js';
import { findBadString } from '../graphql/operation-limits.js';

/** What graphql-ws's `ws` integration puts in `Context.extra`. */
interface WsExtra {
  socket: { close(code: number, reason: string): void };
  request: IncomingMessage & { headers: IncomingHttpHeaders };
}

export type ConnectionParams = Readonly<Record<string, unknown>> | undefined;

/** The bearer header a client put in its connection_init payload: `authorization` or `Authorization`. */
export function connectionAuthorization(params: ConnectionParams): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

/** Why a connection is refused, or null when its payload carries a bearer token worth checking. */
export function missingTokenReason(params: ConnectionParams): string | null {
  return bearerToken(connectionAuthorization(params)) === null
    ? 'Missing bearer token: send {"authorization":"Bearer <token>"} as the connection_init payload'
    : null;
}

export interface GraphqlWsDependencies {
  auth: AuthService;
  /** Where open sockets are kept, so that a token that stops working closes them (4401). */
  sockets: OpenSockets;
  /** The failed-authentication count per client address that HTTP requests share. */
  failures: FailedAuthentications;
  db: Database;
  schema: () => GraphQLSchema;
  /** The rules the HTTP endpoint validates with (depth, aliases, root fields, input strings). */
  validationRules: ValidationRule[];
  maxCost: number;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  production: boolean;
}

/** A client's mistake in the operation it sent, with the code the HTTP endpoint gives it. */
function clientError(error: unknown, production = false): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  const message = graphqlError?.message ?? String(error);
  return new GraphQLError(production ? withoutSuggestions(message) : message, {
    nodes: graphqlError?.nodes,
    source: graphqlError?.source,
    positions: graphqlError?.positions,
    extensions: { ...withoutHttp(graphqlError?.extensions), code: ErrorCode.BAD_USER_INPUT },
  });
}

/** `extensions.http` tells Apollo the HTTP status of a refusal: nothing a WebSocket client should see. */
function withoutHttp(extensions: Record<string, unknown> | undefined): Record<string, unknown> {
  const { http: _http, ...rest } = extensions ?? {};
  return rest;
}

/**
 * GraphQL over WebSocket (the graphql-transport-ws protocol of graphql-ws) at the HTTP endpoint's path.
 * The connection_init payload carries the bearer token, checked once when the socket opens: without a
 * valid one the socket is closed with 4401 and the reason; while it is open, OpenSockets re-checks the token
 * every few seconds and closes the socket with 4401 once it stops working. Each subscription then goes through the global
 * AuthGuard like any operation (its permission, the token still valid), with the HTTP endpoint's depth and
 * cost limits and its error codes. Queries and mutations stay on HTTP.
 */
export function graphqlWsOptions(deps: GraphqlWsDependencies): GraphQLWsSubscriptionsConfig {
  const refuse = (ctx: Context, reason: string): false => {
    (ctx.extra as WsExtra).socket.close(CloseCode.Unauthorized, reason);
    return false; // graphql-ws would close with 4403; the socket is closing with the reason already
  };

  const options: ServerOptions & { path: string; isProd: boolean } = {
    path: '/graphql',
    isProd: deps.production,

    onConnect: async (ctx) => {
      const missing = missingTokenReason(ctx.connectionParams);
      if (missing) return refuse(ctx, missing);
      const principal = await deps.auth.authenticate(bearerToken(connectionAuthorization(ctx.connectionParams))!);
      if (!principal) {
        // A wrong token counts against the address like one sent over HTTP; past the limit the reason says so
        // (a token that works is still accepted, as on HTTP).
        const { limited, retryAfterSeconds } = await deps.failures.recordFailure(
          deps.failures.addressOf((ctx.extra as WsExtra).request),
        );
        return refuse(
          ctx,
          limited
            ? `Too many failed authentications from this address; try again in ${retryAfterSeconds} s`
            : 'Invalid bearer token',
        );
      }
      deps.sockets.add((ctx.extra as WsExtra).socket, principal);
      return true;
    },

    onClose: (ctx) => deps.sockets.remove((ctx.extra as WsExtra).socket),

    context: (ctx) => {
      const { headers } = (ctx.extra as WsExtra).request;
      const requestId = headers['x-request-id'];
      return new GraphQLContext(
        { headers },
        connectionAuthorization(ctx.connectionParams),
        typeof requestId === 'string' ? requestId : randomUUID(),
        deps.db,
      );
    },

    onSubscribe: (_ctx, _id, payload) => {
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch (error) {
        return [clientError(error)];
      }
      const schema = deps.schema();
      const invalid = validate(schema, document, [...specifiedRules, ...deps.validationRules]);
      if (invalid.length > 0) return invalid.map((error) => clientError(error, deps.production));
      const bad = findBadString(payload.variables ?? {}, 'variables');
      if (bad) return [clientError(`${bad.path} ${bad.reason}`)];
      const operation = getOperationAST(document, payload.operationName);
      if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) {
        return [
          clientError('Only subscriptions are served over WebSocket: send queries and mutations to POST /graphql'),
        ];
      }
      const tooExpensive = costError(
        operationCost(schema, document, payload.operationName, payload.variables),
        deps.maxCost,
      );
      if (tooExpensive) return [clientError(tooExpensive)];
      return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
    },

    // Errors of a subscription's resolvers (NOT_FOUND, FORBIDDEN, …) arrive in a result; the others (refused
    // operations, a stream that failed) in an error message. Both get the HTTP endpoint's codes and hiding.
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors ? { ...result, errors: result.errors.map((e) => deps.formatError(e.toJSON(), e)) } : undefined,

    onError: (_ctx, _id, _payload, errors) => errors.map((e) => deps.formatError(e.toJSON(), e)),
  };
  return options;
}
