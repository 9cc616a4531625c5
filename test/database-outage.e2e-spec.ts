import { randomUUID } from 'node:crypto';
import { describeWith, startPrivatePostgres, type PrivatePostgres } from '@snapdeck/testing';
import { eventually, graphql, type GraphQLResponse } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const CREATE_ENVIRONMENT = `mutation($name: String!) { createEnvironment(input: { name: $name }) { environment { id name } } }`;

async function createEnvironment(
  stack: Stack,
  token: string,
  key: string,
  name: string,
): Promise<GraphQLResponse<{ createEnvironment: { environment: { id: string; name: string } } }>> {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
    body: JSON.stringify({ query: CREATE_ENVIRONMENT, variables: { name } }),
  });
  return (await response.json()) as GraphQLResponse<{
    createEnvironment: { environment: { id: string; name: string } };
  }>;
}

/** The api on a PostgreSQL of this test's own, stopped and started again under it. */
describeWith(['redis'], 'a database outage', () => {
  let postgres: PrivatePostgres;
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    stack = await startStack({ apiEnv: { DATABASE_URL: postgres.url } });
    tenant = await createTenant(stack);
  }, 120000);
  afterAll(async () => {
    await stack?.close();
    await postgres?.close();
  });

  it('answers SERVICE_UNAVAILABLE with retryable: true while PostgreSQL is down, and works again once it is back', async () => {
    const key = randomUUID();
    await postgres.stop();
    try {
      for (const answer of [
        await createEnvironment(stack, tenant.tokens.ORG_ADMIN, key, 'staging'),
        await graphql(stack.url, tenant.tokens.MEMBER, '{ viewer { user { id } } }'),
      ]) {
        expect(answer.errors?.map((e) => e.extensions)).toEqual([{ code: 'SERVICE_UNAVAILABLE', retryable: true }]);
        expect(answer.errors?.[0].message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|SELECT|\//);
      }
      // Refused before GraphQL ran (the token's lookup): HTTP 503 with a Retry-After, the same body.
      const raw = await fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.tokens.MEMBER}` },
        body: JSON.stringify({ query: '{ viewer { user { id } } }' }),
      });
      expect(raw.status).toBe(503);
      expect(raw.headers.get('retry-after')).toBe('1');
      expect((await fetch(`${stack.url}/health`)).status).toBe(503);
    } finally {
      await postgres.start();
    }

    // The pool reconnects by itself; the retry with the same key does the work once.
    const created = await eventually(
      async () => {
        const answer = await createEnvironment(stack, tenant.tokens.ORG_ADMIN, key, 'staging');
        return answer.errors ? null : answer.data!.createEnvironment.environment;
      },
      30000,
      'the api to reach PostgreSQL again',
    );
    const again = await createEnvironment(stack, tenant.tokens.ORG_ADMIN, key, 'staging');
    expect(again.errors).toBeUndefined();
    expect(again.data!.createEnvironment.environment).toEqual(created);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  }, 120000);
});
