import { randomUUID } from 'node:crypto';
import { describeWith, startPrivatePostgres, type PrivatePostgres } from '@snapdeck/testing';
import { eventually, graphql, type GraphQLResponse } from './support/graphql-client.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
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
describeWith(['redis', 'qemu-img'], 'a database outage', () => {
  let postgres: PrivatePostgres;
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    // A short lease and reconcile interval: a job whose send was lost to the restart goes out again soon.
    stack = await startStack({
      agents: ['kvm-a'],
      apiEnv: { DATABASE_URL: postgres.url, JOB_LEASE_SECONDS: '5', RECONCILE_INTERVAL_SECONDS: '1' },
    });
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

  it('loses nothing and duplicates nothing in a burst of keyed mutations across a restart: no INTERNAL_SERVER_ERROR, no CONFLICT', async () => {
    const requests = Array.from({ length: 30 }, (_, i) => ({ key: randomUUID(), name: `burst-${i}` }));
    const codes = new Map<string, number>();
    let restarted = false;
    // Each client retries what answered SERVICE_UNAVAILABLE with the same key, as the guide says to.
    const client = async ({ key, name }: { key: string; name: string }) => {
      for (;;) {
        const answer = await createEnvironment(stack, tenant.tokens.ORG_ADMIN, key, name);
        if (!answer.errors) return answer.data!.createEnvironment.environment;
        for (const error of answer.errors) {
          const code = error.extensions?.code ?? 'NONE';
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
        if (answer.errors.some((e) => e.extensions?.code !== 'SERVICE_UNAVAILABLE')) {
          throw new Error(`${name}: ${JSON.stringify(answer.errors)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, restarted ? 20 : 100));
      }
    };
    const restart = (async () => {
      await postgres.stop();
      await postgres.start();
      restarted = true;
    })();
    const created = await Promise.all(requests.map(client));
    await restart;

    // The restart was felt (the requests overlap its down time), and only as SERVICE_UNAVAILABLE.
    expect(codes.get('SERVICE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
    expect([...codes.keys()].filter((code) => code !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    expect(created.map((e) => e.name)).toEqual(requests.map((r) => r.name));
    // A second retry of each answers the same environment: one row per key.
    for (const [i, request] of requests.entries()) {
      const again = await createEnvironment(stack, tenant.tokens.ORG_ADMIN, request.key, request.name);
      expect(again.data?.createEnvironment.environment).toEqual(created[i]);
    }
  }, 120000);

  it('takes exactly one snapshot per keyed createSnapshot in a burst across a restart, and every one completes', async () => {
    const volumes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const instance = await createInstance(stack, tenant.tokens.MEMBER, {
        environmentId: tenant.environmentId,
        name: `burst-vm-${i}`,
      });
      volumes.push(instance.volumes.find((v) => v.type === 'ROOT')!.id);
    }
    const create = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { id } job { id } } }`;
    const unexpected: unknown[] = [];
    let unavailable = 0;
    const client = async (volumeId: string) => {
      const key = randomUUID();
      for (;;) {
        const response = await fetch(`${stack.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tenant.tokens.MEMBER}`,
            'idempotency-key': key,
          },
          body: JSON.stringify({ query: create, variables: { input: { volumeId, name: 'burst' } } }),
        });
        const answer = (await response.json()) as GraphQLResponse<{ createSnapshot: { snapshot: { id: string } } }>;
        if (!answer.errors) return answer.data!.createSnapshot.snapshot.id;
        if (answer.errors.some((e) => e.extensions?.code !== 'SERVICE_UNAVAILABLE')) {
          unexpected.push(answer.errors);
          return null;
        }
        unavailable++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const restart = (async () => {
      await postgres.stop();
      await postgres.start();
    })();
    const ids = await Promise.all(volumes.map(client));
    await restart;

    expect(unexpected).toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    const counts = await eventually(
      async () => {
        const answer = await graphql<{ snapshots: { edges: Array<{ node: { id: string; volume: { id: string } } }> } }>(
          stack.url,
          tenant.tokens.MEMBER,
          '{ snapshots(first: 100) { edges { node { id volume { id } } } } }',
        );
        return answer.errors ? null : answer.data!.snapshots.edges;
      },
      30000,
      'the snapshots to be listed',
    );
    for (const volumeId of volumes) expect(counts.filter((e) => e.node.volume.id === volumeId)).toHaveLength(1);
    for (const id of ids) await waitForSnapshot(stack, tenant.tokens.MEMBER, id!, 'COMPLETED', 60000);
  }, 240000);
});
