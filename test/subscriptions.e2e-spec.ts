import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { startApi } from '@snapdeck/api';
import { eventually, mustQuery } from './support/graphql-client.js';
import { createInstance } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';
import { Collected, connect, listening } from './support/subscriptions.js';
import { createTenant, type Tenant } from './support/tenants.js';

/**
 * GraphQL subscriptions over WebSocket (graphql-ws) against the api, real agents, PostgreSQL and Redis: the
 * Snapshots tab follows a snapshot without polling, a job reports its way to the end, only a valid bearer
 * token connects, another tenant's environment or job is NOT_FOUND, and with two api replicas an event
 * reaches a subscriber whichever replica made the change.
 */

const SNAPSHOT_UPDATED = `subscription($e: ID!) { snapshotUpdated(environmentId: $e) {
  removed snapshot { id name state error environment { id } job { id status } } } }`;
const JOB_UPDATED = `subscription($id: ID!) { jobUpdated(id: $id) { id type status attempt error finishedAt } }`;
const CREATE = `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id state } job { id status } } }`;
const DELETE = `mutation($s: ID!) { deleteSnapshot(input: { snapshotId: $s }) { snapshot { id state } job { id } } }`;

interface SnapshotUpdate {
  removed: boolean;
  snapshot: {
    id: string;
    name: string;
    state: string;
    environment: { id: string };
    job: { id: string; status: string };
  };
}

interface JobUpdate {
  id: string;
  status: string;
  attempt: number;
  finishedAt: string | null;
}

const FINAL = ['SUCCEEDED', 'FAILED'];

describe('GraphQL subscriptions over WebSocket', () => {
  let stack: Stack;
  let tenant: Tenant;
  let stranger: Tenant;
  let redis: Redis;
  let replicaB: INestApplication | undefined;
  const clients: Array<{ dispose(): Promise<void> | void }> = [];

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const subscriber = (token: string, url = stack.url) => {
    const { client } = connect(url, bearer(token));
    clients.push(client);
    return client;
  };

  /** A fresh environment with one instance on `hostName`: its own channel, so events of other tests stay out. */
  async function environmentWithVolume(hostName: string) {
    const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `mutation($n: String!) { createEnvironment(input: { name: $n }) { environment { id } } }`,
      { n: `env-${Math.random().toString(36).slice(2, 8)}` },
    );
    const environmentId = createEnvironment.environment.id;
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId,
      name: `vm-${Math.random().toString(36).slice(2, 8)}`,
      hostId: await stack.hostId(hostName),
    });
    return { environmentId, volumeId: instance.volumes.find((v) => v.type === 'ROOT')!.id };
  }

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    // A slow host: a subscriber that arrives just after the mutation still sees the job before it ends.
    await stack.startAgent('kvm-slow', { AGENT_DRIVER: 'simulator', SIMULATOR_LATENCY_MS: '1500' });
    tenant = await createTenant(stack);
    stranger = await createTenant(stack);
    redis = new Redis(stack.apiConfig.REDIS_URL);
  });

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    redis?.disconnect();
    await replicaB?.close();
    await stack?.close();
  });

  it('follows a snapshot: IN_PROGRESS, COMPLETED, DESTROYING, then once more as removed', async () => {
    const { environmentId, volumeId } = await environmentWithVolume('kvm-a');
    // READ_ONLY is enough to watch; the key may also be spelled Authorization.
    const { client } = connect(stack.url, { Authorization: `Bearer ${tenant.tokens.READ_ONLY}` });
    clients.push(client);
    const updates = new Collected<SnapshotUpdate>(client, SNAPSHOT_UPDATED, { e: environmentId });
    const channels = await listening(redis, stack.apiConfig.QUEUE_PREFIX, environmentId);
    expect(channels.every((c) => c.startsWith(`${stack.apiConfig.QUEUE_PREFIX}:`))).toBe(true);

    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, { v: volumeId });
    const id = createSnapshot.snapshot.id as string;
    await updates.until((events) => events.some((u) => u.snapshot.state === 'COMPLETED'), 'COMPLETED');
    await mustQuery(stack.url, tenant.tokens.MEMBER, DELETE, { s: id });
    await updates.until((events) => events.some((u) => u.removed), 'the removal');

    expect(updates.errors).toEqual([]);
    expect(updates.events.map((u) => [u.snapshot.id, u.snapshot.state, u.removed])).toEqual([
      [id, 'IN_PROGRESS', false],
      [id, 'COMPLETED', false],
      [id, 'DESTROYING', false],
      [id, 'DESTROYING', true],
    ]);
    for (const u of updates.events) expect(u.snapshot.environment.id).toBe(environmentId);
    // Nested objects are read when each event is delivered, not kept from an earlier event.
    const [, completed, , removed] = updates.events;
    expect(completed.snapshot.job).toEqual({ id: createSnapshot.job.id, status: 'SUCCEEDED' });
    expect(removed.snapshot.job.id).not.toBe(createSnapshot.job.id);
    expect(removed.snapshot.job.status).toBe('SUCCEEDED');
    // The snapshot really left every listing.
    const { snapshot } = await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `query($s: ID!) { snapshot(id: $s) { id } }`,
      {
        s: id,
      },
    );
    expect(snapshot).toBeNull();
  });

  it('reports a job step by step to its final status, then completes', async () => {
    const { volumeId } = await environmentWithVolume('kvm-slow');
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, { v: volumeId });
    const jobId = createSnapshot.job.id as string;
    const job = new Collected<JobUpdate>(subscriber(tenant.tokens.READ_ONLY), JOB_UPDATED, { id: jobId });
    await job.ended;

    expect(job.errors).toEqual([]);
    const statuses = job.events.map((e) => e.status);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(FINAL).not.toContain(statuses[0]); // the job as it was when the subscription started
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    expect(statuses.slice(0, -1).every((s) => s === 'PENDING' || s === 'RUNNING')).toBe(true);
    expect(job.events.every((e) => e.id === jobId && e.attempt === 1)).toBe(true);
    expect(job.events.at(-1)!.finishedAt).not.toBeNull();

    // Arriving after the end, a subscriber hears how it ended, and the subscription completes.
    const late = new Collected<JobUpdate>(subscriber(tenant.tokens.MEMBER), JOB_UPDATED, { id: jobId });
    await late.ended;
    expect(late.events.map((e) => e.status)).toEqual(['SUCCEEDED']);
  });

  it('refuses a connection without a valid bearer token, saying why', async () => {
    const none = connect(stack.url, {});
    expect(await none.closed).toEqual({ code: 4401, reason: expect.stringMatching(/Missing bearer token/) });
    const notBearer = connect(stack.url, { authorization: tenant.tokens.MEMBER });
    expect(await notBearer.closed).toEqual({ code: 4401, reason: expect.stringMatching(/Missing bearer token/) });
    const wrong = connect(stack.url, bearer('sdk_not-a-token-anyone-holds'));
    expect(await wrong.closed).toEqual({ code: 4401, reason: 'Invalid bearer token' });
  });

  it("answers NOT_FOUND for another tenant's environment or job, and sends it nothing", async () => {
    const { environmentId, volumeId } = await environmentWithVolume('kvm-a');
    const owner = new Collected<SnapshotUpdate>(subscriber(tenant.tokens.READ_ONLY), SNAPSHOT_UPDATED, {
      e: environmentId,
    });
    await listening(redis, stack.apiConfig.QUEUE_PREFIX, environmentId);
    const outsider = subscriber(stranger.tokens.ORG_ADMIN);
    const spy = new Collected<SnapshotUpdate>(outsider, SNAPSHOT_UPDATED, { e: environmentId });
    await spy.ended;
    expect(spy.codes()).toEqual(['NOT_FOUND']);
    // The same answer as for an environment that does not exist: existence does not leak.
    const missingId = '00000000-0000-4000-8000-000000000000';
    const missing = new Collected<SnapshotUpdate>(outsider, SNAPSHOT_UPDATED, { e: missingId });
    await missing.ended;
    expect(missing.codes()).toEqual(['NOT_FOUND']);
    expect(spy.errors[0].message).toBe(missing.errors[0].message.replace(missingId, environmentId));

    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, { v: volumeId });
    const jobSpy = new Collected<JobUpdate>(outsider, JOB_UPDATED, { id: createSnapshot.job.id });
    await jobSpy.ended;
    expect(jobSpy.codes()).toEqual(['NOT_FOUND']);

    await owner.until((events) => events.some((u) => u.snapshot.state === 'COMPLETED'), 'the owner to see COMPLETED');
    expect(spy.events).toEqual([]);
    expect(jobSpy.events).toEqual([]);
    // Platform staff read every organization, so they may watch it.
    const staff = new Collected<JobUpdate>(subscriber(stack.adminToken), JOB_UPDATED, { id: createSnapshot.job.id });
    await staff.ended;
    expect(staff.events.map((e) => e.status)).toEqual(['SUCCEEDED']);
  });

  it('applies the HTTP endpoint limits and codes, and keeps queries on HTTP', async () => {
    const client = subscriber(tenant.tokens.READ_ONLY);
    const deep = new Collected(
      client,
      `subscription($e: ID!) { snapshotUpdated(environmentId: $e) { snapshot { volume { instance { volumes {
        instance { volumes { instance { volumes { instance { volumes { instance { id } } } } } } } } } } } } }`,
      { e: tenant.environmentId },
    );
    const query = new Collected(client, `query { viewer { user { id } } }`, {});
    const badId = new Collected(client, JOB_UPDATED, { id: 'not-a-uuid' });
    await Promise.all([deep.ended, query.ended, badId.ended]);
    expect(deep.codes()).toEqual(['BAD_USER_INPUT']);
    expect(query.codes()).toEqual(['BAD_USER_INPUT']);
    expect(query.errors[0].message).toMatch(/POST \/graphql/);
    expect(badId.codes()).toEqual(['BAD_USER_INPUT']);
  });

  it('delivers events to a subscriber of replica B for a change made through replica A', async () => {
    replicaB = await startApi({ ...stack.apiConfig, PORT: 0 }, process.env.E2E_LOG ? {} : { logger: false });
    const urlB = (await replicaB.getUrl()).replace('[::1]', '127.0.0.1');
    expect(urlB).not.toBe(stack.url);
    const { environmentId, volumeId } = await environmentWithVolume('kvm-a');
    const connectionB = connect(urlB, bearer(tenant.tokens.READ_ONLY));
    clients.push(connectionB.client);
    const onB = new Collected<SnapshotUpdate>(connectionB.client, SNAPSHOT_UPDATED, { e: environmentId });
    await listening(redis, stack.apiConfig.QUEUE_PREFIX, environmentId);

    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, { v: volumeId });
    const jobOnB = new Collected<JobUpdate>(subscriber(tenant.tokens.READ_ONLY, urlB), JOB_UPDATED, {
      id: createSnapshot.job.id,
    });
    await onB.until((events) => events.some((u) => u.snapshot.state === 'COMPLETED'), 'COMPLETED on replica B');
    await jobOnB.ended;
    expect(onB.events.map((u) => u.snapshot.state)).toEqual(['IN_PROGRESS', 'COMPLETED']);
    expect(jobOnB.events.at(-1)!.status).toBe('SUCCEEDED');

    // A replica that shuts down closes its sockets ("going away") and lets go of its Redis subscriptions.
    await replicaB.close();
    replicaB = undefined;
    expect((await connectionB.closed).code).toBe(1001);
    await onB.ended;
    await eventually(
      async () =>
        ((await redis.pubsub('CHANNELS', `${stack.apiConfig.QUEUE_PREFIX}:*${environmentId}*`)) as string[]).length ===
        0,
      10000,
      'the channel to be released',
    );
  });
});
