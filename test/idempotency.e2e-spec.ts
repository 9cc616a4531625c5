import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describeWith } from '@snapdeck/testing';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { eventually, mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const CREATE = `mutation($input: CreateSnapshotInput!) {
  createSnapshot(input: $input) { snapshot { id name state volume { id } } job { id status } } }`;

interface Created {
  createSnapshot: { snapshot: { id: string; name: string; state: string }; job: { id: string; status: string } };
}

/** A GraphQL request with an Idempotency-Key, as a client that retries sends it. */
async function withKey<T>(
  stack: Stack,
  token: string,
  key: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${stack.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

describeWith(['redis', 'qemu-img'], 'Idempotency-Key on mutations', () => {
  let stack: Stack;
  let tenant: Tenant;
  let admin: pg.Client;

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    tenant = await createTenant(stack);
    admin = new pg.Client({ connectionString: stack.apiConfig.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await stack?.close();
  });

  let counter = 0;
  async function freshVolume(): Promise<string> {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: `idem-${++counter}`,
    });
    return instance.volumes.find((v) => v.type === 'ROOT')!.id;
  }

  async function snapshotsOn(volumeId: string): Promise<string[]> {
    const { rows } = await admin.query<{ id: string }>('SELECT id FROM snapshots WHERE volume_id = $1 ORDER BY id', [
      volumeId,
    ]);
    return rows.map((r) => r.id);
  }

  const create = (key: string, volumeId: string, name = 'once', token = tenant.tokens.MEMBER) =>
    withKey<Created>(stack, token, key, CREATE, { input: { volumeId, name } });

  it('answers a retry with the first request’s snapshot and job, in their current state, and takes one', async () => {
    const volumeId = await freshVolume();
    const key = randomUUID();
    const first = await create(key, volumeId);
    expect(first.errors).toBeUndefined();
    const { snapshot, job } = first.data!.createSnapshot;
    await waitForSnapshot(stack, tenant.tokens.MEMBER, snapshot.id, 'COMPLETED');

    const again = await create(key, volumeId);
    expect(again.errors).toBeUndefined();
    expect(again.data!.createSnapshot.snapshot).toMatchObject({ id: snapshot.id, name: 'once', state: 'COMPLETED' });
    expect(again.data!.createSnapshot.job).toEqual({ id: job.id, status: 'SUCCEEDED' });
    expect(await snapshotsOn(volumeId)).toEqual([snapshot.id]);
  });

  it('does the work once for 10 requests sent at once with one key, and answers each with it', async () => {
    const volumeId = await freshVolume();
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => create(key, volumeId)));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const ids = new Set(answers.map((a) => a.data!.createSnapshot.snapshot.id));
    const jobs = new Set(answers.map((a) => a.data!.createSnapshot.job.id));
    expect(ids.size).toBe(1);
    expect(jobs.size).toBe(1);
    expect(await snapshotsOn(volumeId)).toEqual([...ids]);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, [...ids][0], 'COMPLETED');
  });

  it('refuses the same key with other arguments or another mutation, and changes nothing', async () => {
    const volumeId = await freshVolume();
    const key = randomUUID();
    const first = await create(key, volumeId, 'first');
    expect(first.errors).toBeUndefined();
    await waitForSnapshot(stack, tenant.tokens.MEMBER, first.data!.createSnapshot.snapshot.id, 'COMPLETED');

    const otherName = await create(key, volumeId, 'second');
    expect(otherName.data).toBeNull();
    expect(otherName.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'Idempotency-Key' });
    expect(otherName.errors?.[0].message).toMatch(/Idempotency-Key was used within 24 hours for another mutation/);

    const otherMutation = await withKey(
      stack,
      tenant.tokens.MEMBER,
      key,
      'mutation($input: DeleteSnapshotInput!) { deleteSnapshot(input: $input) { snapshot { id } } }',
      {
        input: { snapshotId: first.data!.createSnapshot.snapshot.id },
      },
    );
    expect(otherMutation.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshotsOn(volumeId)).toEqual([first.data!.createSnapshot.snapshot.id]);
    const { rows } = await admin.query('SELECT state FROM snapshots WHERE id = $1', [
      first.data!.createSnapshot.snapshot.id,
    ]);
    expect(rows[0].state).toBe('COMPLETED');
  });

  it('keeps keys per caller: another user’s same key does its own work', async () => {
    const volumeId = await freshVolume();
    const key = randomUUID();
    const mine = await create(key, volumeId, 'mine');
    expect(mine.errors).toBeUndefined();
    await waitForSnapshot(stack, tenant.tokens.MEMBER, mine.data!.createSnapshot.snapshot.id, 'COMPLETED');
    const theirs = await create(key, volumeId, 'mine', tenant.tokens.ORG_ADMIN);
    expect(theirs.errors).toBeUndefined();
    expect(theirs.data!.createSnapshot.snapshot.id).not.toBe(mine.data!.createSnapshot.snapshot.id);
    expect(await snapshotsOn(volumeId)).toHaveLength(2);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, theirs.data!.createSnapshot.snapshot.id, 'COMPLETED');
  });

  it('forgets a key after 24 hours', async () => {
    const volumeId = await freshVolume();
    const key = randomUUID();
    const first = await create(key, volumeId);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, first.data!.createSnapshot.snapshot.id, 'COMPLETED');
    await admin.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);

    const later = await create(key, volumeId);
    expect(later.errors).toBeUndefined();
    expect(later.data!.createSnapshot.snapshot.id).not.toBe(first.data!.createSnapshot.snapshot.id);
    expect(await snapshotsOn(volumeId)).toHaveLength(2);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, later.data!.createSnapshot.snapshot.id, 'COMPLETED');
  });

  it('answers a secret shown once (createApiToken) CONFLICT on a replay instead of a second token', async () => {
    const key = randomUUID();
    const query = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;
    const input = { input: { userId: tenant.userIds.MEMBER, name: `idem-${key.slice(0, 8)}` } };
    const first = await withKey<{ createApiToken: { token: string } }>(
      stack,
      tenant.tokens.ORG_ADMIN,
      key,
      query,
      input,
    );
    expect(first.errors).toBeUndefined();
    const again = await withKey(stack, tenant.tokens.ORG_ADMIN, key, query, input);
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(again.errors?.[0].message).toMatch(/token is shown only once/);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM api_tokens WHERE name = $1', [input.input.name]);
    expect(rows[0].n).toBe(1);
  });

  it('answers SERVICE_UNAVAILABLE, retryable, when the database drops the connection mid-request; the retry with the key takes exactly one snapshot', async () => {
    const volumeId = await freshVolume();
    const key = randomUUID();
    // Hold the volume's row so the request waits inside its transaction (after its key row), then drop its
    // connection as a PostgreSQL restart would.
    const holder = new pg.Client({ connectionString: stack.apiConfig.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM volumes WHERE id = $1 FOR UPDATE', [volumeId]);
      const pending = create(key, volumeId);
      const pid = await eventually(
        async () => {
          const { rows } = await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%UPDATE "volumes"%'`,
          );
          return rows[0]?.pid;
        },
        10000,
        'the request to wait for the volume row',
      );
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const dropped = await pending;
      expect(dropped.errors?.map((e) => e.extensions)).toEqual([{ code: 'SERVICE_UNAVAILABLE', retryable: true }]);
      expect(dropped.errors?.[0].message).not.toMatch(/SELECT|UPDATE|volumes|terminat|\//);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect(await snapshotsOn(volumeId)).toEqual([]);

    const retried = await create(key, volumeId);
    expect(retried.errors).toBeUndefined();
    const again = await create(key, volumeId);
    expect(again.data!.createSnapshot.snapshot.id).toBe(retried.data!.createSnapshot.snapshot.id);
    expect(await snapshotsOn(volumeId)).toEqual([retried.data!.createSnapshot.snapshot.id]);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, retried.data!.createSnapshot.snapshot.id, 'COMPLETED');
  });

  it('still takes one snapshot per request without a key', async () => {
    const volumeId = await freshVolume();
    const { createSnapshot } = await mustQuery<Created>(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId, name: 'plain' },
    });
    await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
    const second = await mustQuery<Created>(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId, name: 'plain-2' },
    });
    expect(second.createSnapshot.snapshot.id).not.toBe(createSnapshot.snapshot.id);
    expect(await snapshotsOn(volumeId)).toHaveLength(2);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, second.createSnapshot.snapshot.id, 'COMPLETED');
  });

  it('refuses a malformed key and a key on a request of two mutations, before doing anything', async () => {
    const volumeId = await freshVolume();
    const malformed = await create('with spaces in it', volumeId);
    expect(malformed.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'Idempotency-Key' });
    const two = await withKey(
      stack,
      tenant.tokens.MEMBER,
      randomUUID(),
      `mutation($input: CreateSnapshotInput!) { a: createSnapshot(input: $input) { snapshot { id } } b: createSnapshot(input: $input) { snapshot { id } } }`,
      { input: { volumeId, name: 'twice' } },
    );
    // The first field's refusal nulls the (non-null) payload, so graphql-js runs the second no further.
    expect(two.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(two.errors?.[0].message).toMatch(/covers one mutation/);
    expect(await snapshotsOn(volumeId)).toEqual([]);
  });
});
