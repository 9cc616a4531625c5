import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '@snapdeck/domain';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type ASTVisitor,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { AuthService } from '../auth/auth.service.js';
import { bearerToken } from '../auth/token.js';
import { refusal } from './complexity.plugin.js';
import type { GraphQLContext } from './context.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be taken as input, or null when it can: PostgreSQL refuses U+0000 in text (the driver
 * error would be a 500), and a lone UTF-16 surrogate is no character at all (it cannot be stored as UTF-8).
 */
export function badStringReason(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (not a Unicode character)';
  return null;
}

/** The first bad string anywhere in a JSON value (variables), with its path, or null. */
export function findBadString(value: unknown, path: string): { path: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = badStringReason(value);
    return reason ? { path, reason } : null;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findBadString(item, `${path}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findBadString(key, `${path} (a key)`) ?? findBadString(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

/** Refuses a NUL character or a lone surrogate in a string literal of the document (variables: see the plugin). */
export const inputStringsRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  StringValue(node) {
    const reason = badStringReason(node.value);
    if (reason) context.reportError(new GraphQLError(`A string argument ${reason}`, { nodes: [node] }));
  },
});

/** The root fields an operation selects, through fragments and inline fragments (each counts once per use). */
function countRootFields(context: ValidationContext, selectionSet: SelectionSetNode, seen: Set<string>): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) count += 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += countRootFields(context, selection.selectionSet, seen);
    else if (!seen.has(selection.name.value)) {
      const fragment = context.getFragment(selection.name.value);
      // A cycle is reported by graphql's own NoFragmentCyclesRule; `seen` only keeps this count finite.
      if (fragment) count += countRootFields(context, fragment.selectionSet, new Set([...seen, fragment.name.value]));
    }
  }
  return count;
}

/**
 * At most `max` root fields per operation: each is a lookup or a mutation of its own, so 500 aliased
 * createEnvironment or 4,500 `node(id)` in one request are refused before anything runs.
 */
export function maxRootFieldsRule(max: number): ValidationRule {
  return (context) => ({
    OperationDefinition(node: OperationDefinitionNode) {
      const count = countRootFields(context, node.selectionSet, new Set());
      if (count > max) {
        context.reportError(
          new GraphQLError(`Too many root fields: ${count}, the limit is ${max} per operation`, { nodes: [node] }),
        );
      }
    },
  });
}

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** The names of the root fields of `operation`, fragments included. */
function rootFieldNames(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      names.push(...rootFieldNames(document, selection.selectionSet, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find(
        (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
      );
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION)
        names.push(...rootFieldNames(document, fragment.selectionSet, seen));
    }
  }
  return names;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

export interface OperationGuardOptions {
  auth: AuthService;
  /** Introspection (`__schema`, `__type`) for an authenticated caller only; `__typename` always wants one. */
  production: boolean;
}

/**
 * What the validation rules cannot see, checked once the operation is known:
 * - variables carry no NUL character nor lone surrogate (literals: `inputStringsRule`);
 * - a subscription sent over HTTP is refused (it is served over WebSocket, graphql-ws, at the same path);
 * - a root meta-field is no way around authentication: every other root field is guarded by the AuthGuard,
 *   `{ __typename }` and (in production) introspection are answered for a valid bearer token only.
 */
export function operationGuardPlugin(options: OperationGuardOptions): ApolloServerPlugin<GraphQLContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: async ({ request, document, operation, contextValue }) => {
          const bad = findBadString(request.variables ?? {}, 'variables');
          if (bad) throw refusal(`${bad.path} ${bad.reason}`);
          if (!operation) return;
          if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
            throw refusal(
              'Subscriptions are served over WebSocket: connect to this path with a graphql-ws client ' +
                '(protocol graphql-transport-ws); HTTP takes queries and mutations',
            );
          }
          const names = rootFieldNames(document, operation.selectionSet);
          const needsCaller = names.some(
            (name) => name === '__typename' || (options.production && INTROSPECTION_FIELDS.has(name)),
          );
          if (!needsCaller) return;
          const secret = bearerToken(contextValue.authorization);
          if (!secret) throw unauthenticated('Missing bearer token');
          if (!(await options.auth.authenticate(secret))) throw unauthenticated('Invalid bearer token');
        },
      }),
  };
}
