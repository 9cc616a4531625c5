export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

/** Extra headers (an `Idempotency-Key`, say) and a bound on the wait, for a request that may never be answered. */
export interface RequestInit {
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** A GraphQL request over HTTP, as the portal sends it. */
export async function graphql<T = Record<string, any>>(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  init: RequestInit = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal: init.timeoutMs ? AbortSignal.timeout(init.timeoutMs) : undefined,
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** The data of a request that must succeed; any error fails the test with the server's words. */
export async function mustQuery<T = Record<string, any>>(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await graphql<T>(url, token, query, variables);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}

/** The codes of a request that must fail. */
export async function errorCodes(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<string[]> {
  const response = await graphql(url, token, query, variables);
  return (response.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');
}

/** Polls until `probe` returns a value, or fails after `timeoutMs` with what it last saw. */
export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
