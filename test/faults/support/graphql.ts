import { graphql, type GraphQLResponse } from '../../support/graphql-client.js';

/** What a request got: the server's answer, or the transport's failure (the api was down or died mid-request). */
export type Answer<T> = { response: GraphQLResponse<T>; transportError?: undefined } | { transportError: string };

export interface AskOptions {
  /** Sent as `Idempotency-Key`: a retry with the same key must return the first result, not do it twice. */
  idempotencyKey?: string;
  timeoutMs?: number;
}

/** One GraphQL request that never throws and never waits forever: a campaign records what came back. */
export async function ask<T = Record<string, any>>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: AskOptions = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
  try {
    return {
      response: await graphql<T>(url, token, query, variables, { headers, timeoutMs: options.timeoutMs ?? 20_000 }),
    };
  } catch (error) {
    return { transportError: (error as Error).message };
  }
}

/**
 * The error code of an answer: the server's `extensions.code`, HTTP_<status> for a body that is not GraphQL,
 * TRANSPORT when nothing came back, null on success.
 */
export function codeOf(answer: Answer<unknown>): string | null {
  if (answer.transportError !== undefined) return 'TRANSPORT';
  const errors = answer.response.errors;
  if (errors?.length) return errors[0].extensions?.code ?? 'NONE';
  if (answer.response.data) return null;
  // Not a GraphQL answer at all: an HTTP error body from before GraphQL (e.g. Nest's `{ statusCode: 500 }`).
  const status = (answer.response as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? `HTTP_${status}` : 'NONE';
}

/** What an answer said, for a note: the transport's error or the first GraphQL error's message. */
export function messageOf(answer: Answer<unknown>): string {
  if (answer.transportError !== undefined) return answer.transportError;
  return answer.response.errors?.[0]?.message ?? JSON.stringify(answer.response).slice(0, 200);
}
